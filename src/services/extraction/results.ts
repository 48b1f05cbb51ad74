import { userPrefix } from "../../integrations/files.js";
import type { RowError } from "./validate.js";

/** Rows per R2 object: a page of `GET /jobs/{id}/rows` reads one or two objects, an export streams them in turn. */
export const ROWS_PER_OBJECT = 1_000;

/** Where one value came from and how sure the code is of it. */
export type RowProvenance = { source: string; page: number | null; quote: string | null; quote_verified?: boolean };

/** One extracted row as stored: normalised values, its validity and errors, its source and per-value confidence. */
export type StoredRow = {
  values: Record<string, unknown>;
  valid: boolean;
  errors: RowError[];
  provenance: RowProvenance;
  confidence: Record<string, number>;
};

/** The R2 prefix of one run's rows: a new run never touches an earlier run's objects. */
export const resultPrefix = (userId: string, jobId: string, attempt: number) =>
  `${userPrefix(userId)}extraction/${jobId}/attempt-${attempt}/`;

const objectKey = (prefix: string, index: number) => `${prefix}rows-${String(index).padStart(6, "0")}.ndjson`;

/**
 * Writes a run's rows to R2 as NDJSON objects of {@link ROWS_PER_OBJECT} rows. Nothing points at them until the
 * job's row is updated to name the prefix, so a run that dies half-way leaves objects nobody reads, never a
 * partial result.
 * @example
 * const pages = await writeRows(env.FILES, prefix, rows);
 */
export const writeRows = async (bucket: R2Bucket, prefix: string, rows: StoredRow[]) => {
  const objects = Math.ceil(rows.length / ROWS_PER_OBJECT);
  for (let index = 0; index < objects; index++) {
    const slice = rows.slice(index * ROWS_PER_OBJECT, (index + 1) * ROWS_PER_OBJECT);
    await bucket.put(objectKey(prefix, index), `${slice.map((row) => JSON.stringify(row)).join("\n")}\n`, {
      httpMetadata: { contentType: "application/x-ndjson" },
    });
  }
  return objects;
};

const readObject = async (bucket: R2Bucket, prefix: string, index: number): Promise<StoredRow[]> => {
  const object = await bucket.get(objectKey(prefix, index));
  if (!object) return [];
  const text = await object.text();
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as StoredRow);
};

/**
 * The committed rows from `offset`, in order, one object at a time (for exports and paging), each with its
 * index among all rows.
 */
export async function* readRows(
  bucket: R2Bucket,
  result: { prefix: string; objects: number },
  offset = 0,
): AsyncGenerator<StoredRow & { index: number }> {
  for (let index = Math.floor(offset / ROWS_PER_OBJECT); index < result.objects; index++) {
    const rows = await readObject(bucket, result.prefix, index);
    for (const [position, row] of rows.entries()) {
      const at = index * ROWS_PER_OBJECT + position;
      if (at >= offset) yield { ...row, index: at };
    }
  }
}

/** Removes every object of a job (all runs), when the job is deleted with its owner or a run's rows are replaced. */
export const deleteResultObjects = async (bucket: R2Bucket, prefix: string) => {
  let cursor: string | undefined;
  do {
    const listed = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    if (listed.objects.length > 0) await bucket.delete(listed.objects.map((object) => object.key));
    cursor = listed.truncated ? listed.cursor : undefined;
  } while (cursor);
};
