import { and, asc, desc, eq, inArray, lt, sql } from "drizzle-orm";
import {
  type DocumentKind,
  type DocumentRow,
  type DocumentStatus,
  documentPages,
  documents,
} from "../../db/schema/index.js";
import { documentObjectKey } from "../../integrations/files.js";
import { createVectorStore, userDocumentsNamespace } from "../../integrations/vector-store.js";
import { ApiError } from "../../lib/errors.js";
import { isId, newId } from "../../lib/ids.js";
import { requireUser, type ServiceContext } from "../context.js";
import { cursorPage } from "../cursor-page.js";
import { detectKind, isTextKind, textCheck } from "./extract/detect.js";
import { enqueueIngestion } from "./queue.js";
import type { UploadSource } from "./upload-source.js";

// The same answer for an id that is malformed, unknown or someone else's, so ids reveal nothing.
const notFound = (id: string) => new ApiError("NOT_FOUND", `No document ${id}.`);

/** A document as the API shows it. */
export const publicDocument = (row: DocumentRow) => ({
  id: row.id,
  filename: row.filename,
  kind: row.kind,
  media_type: row.mediaType,
  size_bytes: row.sizeBytes,
  sha256: row.sha256,
  status: row.status,
  pages: row.pages,
  characters: row.characters,
  chunks: row.chunkCount,
  ocr_pages: row.ocrPages,
  embedding_model: row.embeddingModel,
  attempts: row.attempt,
  error: row.error ? { code: row.error.code, message: row.error.message, retryable: row.error.retryable } : null,
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
  ready_at: row.readyAt?.toISOString() ?? null,
});

export type PublicDocument = ReturnType<typeof publicDocument>;

/** The safe part of a caller's file name: no path, no control characters, at most 255 characters. */
const cleanFilename = (name: string | undefined, kind: DocumentKind) => {
  const base = (name ?? "").split(/[\\/]/).pop() ?? "";
  const cleaned = base
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is removed
    .replace(/[\u0000-\u001f\u007f]/g, "")
    .trim()
    .slice(0, 255);
  return cleaned || `document.${kind === "markdown" ? "md" : kind === "image" ? "img" : kind}`;
};

const unsupported = () =>
  new ApiError(
    "UNSUPPORTED_DOCUMENT_TYPE",
    "The file is none of the kinds APE reads: PDF, PNG, JPEG, TIFF, CSV, XLSX, HTML, Markdown or plain text (UTF-8).",
  );

const hex = (digest: ArrayBuffer) =>
  Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");

/** Thrown once a text file's bytes are stored and found not to be text after its head; the upload answers 415. */
class NotText extends Error {}

/**
 * The file's bytes on their way to R2, passed through once: hashed (SHA-256) and, for a text kind, checked to
 * be UTF-8 without NUL to the last byte. Nothing is kept but the digest's state.
 */
const storeStreaming = async (
  ctx: ServiceContext,
  input: {
    objectKey: string;
    source: UploadSource;
    text: boolean;
    mediaType: string;
    metadata: Record<string, string>;
  },
) => {
  const digest = new crypto.DigestStream("SHA-256");
  const hashing = digest.getWriter();
  const check = input.text ? textCheck() : null;
  // A file that stops being text is let through to the end rather than cut off: an R2 put whose stream errors
  // leaves the runtime with a rejection nobody can catch. The object is deleted again below.
  let text = true;
  const checked = input.source.stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        if (check && text && !check.push(chunk)) text = false;
        await hashing.write(chunk);
        controller.enqueue(chunk);
      },
      async flush() {
        if (check && text && !check.end()) text = false;
        await hashing.close();
      },
    }),
  );
  // R2 stores a stream only when it knows its length; the length stream also refuses a body that lied about it.
  const sized = new FixedLengthStream(input.source.size);
  // Both sides settle before anything is thrown: the reason the body stopped (a client gone, a length that
  // lied) wins over what R2 made of its stream stopping.
  const [stored, piped] = await Promise.allSettled([
    ctx.env.FILES.put(input.objectKey, sized.readable, {
      httpMetadata: { contentType: input.mediaType },
      customMetadata: input.metadata,
    }),
    checked.pipeTo(sized.writable),
  ]);
  if (piped.status === "rejected") {
    await hashing.abort(piped.reason).catch(() => {});
    digest.digest.catch(() => {});
    throw piped.reason;
  }
  if (stored.status === "rejected") throw stored.reason;
  if (!stored.value) throw new Error("R2 stored nothing");
  if (!text) throw new NotText();
  return hex(await digest.digest);
};

/**
 * Stores an upload and queues its ingestion. The kind is decided by the file's first bytes (a PDF named `.txt`
 * is a PDF); the file then streams to R2 once, hashed on the way, and a text file is checked to be text to its
 * last byte. A file over `DOCUMENT_MAX_BYTES` is 413 `DOCUMENT_TOO_LARGE`, one that would take the owner past
 * `DOCUMENT_QUOTA_BYTES` is 413 `STORAGE_QUOTA_EXCEEDED`, a kind APE cannot read is 415.
 * The row is written first (as `pending`, which holds its place in the quota), then the object, then the queue
 * message: a failure at any step leaves either nothing or a row that says what failed and can be retried.
 * @example
 * const doc = await uploadDocument({ ctx, input: { source: await fileSource(file), filename: "report.pdf" } });
 */
export const uploadDocument = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { source: UploadSource; filename?: string | undefined; declaredType?: string | undefined };
}) => {
  const userId = requireUser(ctx);
  const { source } = input;
  const size = source.size;
  const limit = ctx.env.DOCUMENT_MAX_BYTES;
  if (size > limit) {
    throw new ApiError("DOCUMENT_TOO_LARGE", `The file is ${size} bytes; a document may be ${limit}.`);
  }
  if (size === 0) throw new ApiError("BAD_REQUEST", "The file is empty.");
  const detected = await detectKind({
    bytes: source.head,
    filename: input.filename,
    declaredType: input.declaredType,
    complete: source.head.byteLength >= size,
  });
  if (!detected) throw unsupported();
  const id = newId("doc");
  const objectKey = documentObjectKey(userId, id);
  const quota = ctx.env.DOCUMENT_QUOTA_BYTES;
  // One upload at a time per owner, for the length of a short transaction: under READ COMMITTED a statement
  // sees only what was committed before it began, so two uploads checking the sum at once would both pass it.
  // The advisory lock makes the second wait until the first committed, and its sum then counts the first.
  const inserted = await ctx.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`documents-quota:${userId}`}, 0))`);
    return tx.execute<{ id: string }>(sql`
      insert into documents (id, user_id, filename, kind, media_type, size_bytes, sha256, object_key)
      select ${id}, ${userId}, ${cleanFilename(input.filename, detected.kind)}, ${detected.kind},
             ${detected.mediaType}, ${size}, '', ${objectKey}
      where (select coalesce(sum(size_bytes), 0) from documents where user_id = ${userId}) + ${size}
            <= ${quota}
      returning id`);
  });
  if (inserted.rows.length === 0) {
    await source.stream.cancel().catch(() => {});
    throw new ApiError(
      "STORAGE_QUOTA_EXCEEDED",
      `Storing ${size} more bytes would pass the account's quota of ${quota} bytes; delete documents to make room.`,
    );
  }
  let sha256: string;
  try {
    sha256 = await storeStreaming(ctx, {
      objectKey,
      source,
      text: isTextKind(detected.kind),
      mediaType: detected.mediaType,
      metadata: { userId, documentId: id },
    });
  } catch (error) {
    await ctx.db.delete(documents).where(eq(documents.id, id));
    await ctx.env.FILES.delete(objectKey).catch(() => {});
    if (error instanceof NotText) throw unsupported();
    throw error;
  }
  await ctx.db.update(documents).set({ sha256 }).where(eq(documents.id, id));
  await enqueueIngestion(ctx, { documentId: id, userId });
  ctx.audit({ action: "document.upload", resourceType: "document", resourceId: id });
  return publicDocument(await loadOwned(ctx, userId, id));
};

const loadOwned = async (ctx: ServiceContext, userId: string, id: string) => {
  if (!isId("doc", id)) throw notFound(id);
  const [row] = await ctx.db
    .select()
    .from(documents)
    .where(and(eq(documents.id, id), eq(documents.userId, userId)))
    .limit(1);
  if (!row) throw notFound(id);
  return row;
};

/**
 * The owner check every document route starts with: the caller's document, or 404 `NOT_FOUND` when the id
 * is malformed, unknown or another user's (the same answer for all three).
 */
export const requireDocument = async ({ ctx, id }: { ctx: ServiceContext; id: string }) =>
  loadOwned(ctx, requireUser(ctx), id);

/** One of the caller's documents. */
export const getDocument = async ({ ctx, id }: { ctx: ServiceContext; id: string }) =>
  publicDocument(await requireDocument({ ctx, id }));

/** The caller's documents, newest first, cursor-paginated, optionally of one status and kind. */
export const listDocuments = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    limit: number;
    cursor?: string | undefined;
    status?: DocumentStatus | undefined;
    kind?: DocumentKind | undefined;
  };
}) => {
  const userId = requireUser(ctx);
  const rows = await ctx.db
    .select()
    .from(documents)
    .where(
      and(
        eq(documents.userId, userId),
        input.cursor ? lt(documents.id, input.cursor) : undefined,
        input.status ? eq(documents.status, input.status) : undefined,
        input.kind ? eq(documents.kind, input.kind) : undefined,
      ),
    )
    .orderBy(desc(documents.id))
    .limit(input.limit + 1);
  return cursorPage(rows, input.limit, publicDocument);
};

/**
 * A ready document's extracted text, page by page (a page range keeps large documents in reach). Before it
 * is ready there is no text: 409 `DOCUMENT_NOT_READY` with its status.
 */
export const getDocumentText = async ({
  ctx,
  id,
  input,
}: {
  ctx: ServiceContext;
  id: string;
  input: { from_page: number; limit: number };
}) => {
  const row = await requireDocument({ ctx, id });
  if (row.status !== "ready") {
    throw new ApiError("DOCUMENT_NOT_READY", `Document ${id} is ${row.status}; its text is there once it is ready.`, {
      extensions: { status: row.status },
    });
  }
  const pages = await ctx.db
    .select()
    .from(documentPages)
    .where(and(eq(documentPages.documentId, id), sql`${documentPages.page} >= ${input.from_page}`))
    .orderBy(asc(documentPages.page))
    .limit(input.limit + 1);
  const shown = pages.slice(0, input.limit);
  return {
    document_id: id,
    pages: shown.map((page) => ({
      page: page.page,
      label: page.label,
      ocr: page.ocr === 1,
      text: page.text,
    })),
    total_pages: row.pages ?? 0,
    next_page: pages.length > input.limit ? (pages.at(-1)?.page ?? null) : null,
  };
};

/**
 * Deletes a document with everything made from it: the R2 object, its pages and chunks (by cascade) and its
 * vectors. The row goes first, so an ingestion still running finds nothing to commit to and writes nothing.
 */
export const deleteDocument = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const userId = requireUser(ctx);
  const row = await loadOwned(ctx, userId, id);
  await ctx.db.delete(documents).where(and(eq(documents.id, id), eq(documents.userId, userId)));
  await Promise.all([
    ctx.env.FILES.delete(row.objectKey),
    createVectorStore(ctx).deleteByPrefix(userDocumentsNamespace(userId), `${id}#`),
  ]);
  ctx.audit({ action: "document.delete", resourceType: "document", resourceId: id });
};

/**
 * Runs a failed document's ingestion again from the start (a finished or running one is 409 `CONFLICT`).
 */
export const retryDocument = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const userId = requireUser(ctx);
  await loadOwned(ctx, userId, id);
  const [row] = await ctx.db
    .update(documents)
    .set({ status: "pending", error: null, leaseUntil: null, slices: 0, checkpoint: null })
    .where(and(eq(documents.id, id), eq(documents.userId, userId), eq(documents.status, "failed")))
    .returning();
  if (!row) throw new ApiError("CONFLICT", `Document ${id} has not failed, so there is nothing to retry.`);
  await enqueueIngestion(ctx, { documentId: id, userId });
  ctx.audit({ action: "document.retry", resourceType: "document", resourceId: id });
  return publicDocument(row);
};

/**
 * Which of `ids` are the caller's documents; any other id is 404 `NOT_FOUND` (malformed, unknown and someone
 * else's alike). For conversations and searches that name documents.
 */
export const requireDocumentIds = async ({ ctx, ids }: { ctx: ServiceContext; ids: string[] }) => {
  const userId = requireUser(ctx);
  const unique = [...new Set(ids)];
  if (unique.length === 0) return unique;
  const bad = unique.find((id) => !isId("doc", id));
  if (bad) throw notFound(bad);
  const rows = await ctx.db
    .select({ id: documents.id })
    .from(documents)
    .where(and(eq(documents.userId, userId), inArray(documents.id, unique)));
  const found = new Set(rows.map((row) => row.id));
  const missing = unique.find((id) => !found.has(id));
  if (missing) throw notFound(missing);
  return unique;
};
