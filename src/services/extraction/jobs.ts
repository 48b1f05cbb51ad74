import { and, desc, eq, inArray, lt } from "drizzle-orm";
import {
  type CrawlBounds,
  type ExtractionColumn,
  type ExtractionJob,
  type ExtractionSourceType,
  type ExtractionStatus,
  extractionJobs,
} from "../../db/schema/index.js";
import { safeFetchFromEnv } from "../../integrations/safe-fetch.js";
import { ApiError } from "../../lib/errors.js";
import { isId } from "../../lib/ids.js";
import { requireUser, type ServiceContext } from "../context.js";
import { cursorPage } from "../cursor-page.js";
import { requireDocument } from "../documents/documents.js";
import { ensureJobEndpoint } from "../webhooks/endpoints.js";
import { type ExportFormat, exportRows } from "./export-writers.js";
import { readRows, type StoredRow } from "./results.js";
import type { ColumnRules } from "./validate.js";

// The same answer for an id that is malformed, unknown or someone else's, so ids reveal nothing.
const notFound = (id: string) => new ApiError("NOT_FOUND", `No extraction job ${id}.`);

/** A guess at when a queued job ends: a page a few seconds, a crawl page a few more. */
const estimateCompletion = (job: ExtractionJob) => {
  const pages = job.sourceType === "web_crawl" ? (job.crawlBounds?.max_pages ?? 10) : 1;
  return new Date(job.createdAt.getTime() + (15 + pages * 5) * 1000).toISOString();
};

/** A job as the API shows it. */
export const publicJob = (job: ExtractionJob) => ({
  id: job.id,
  job_id: job.id,
  status: job.status,
  source_type: job.sourceType,
  source_url: job.sourceUrl,
  document_id: job.sourceDocumentId,
  crawl: job.crawlBounds,
  schema: job.schemaDefinition,
  validation_rules: job.validationRules ?? {},
  output_format: job.outputFormat,
  webhook_url: job.webhookUrl,
  progress: {
    ...(job.progress ?? { stage: "queued" as const, pages_fetched: 0, pages_total: null, rows_so_far: 0 }),
    slices: job.slices,
  },
  rows_extracted: job.rowsExtracted,
  rows_valid: job.rowsValid,
  model_calls: job.modelCalls,
  attempts: job.attempt,
  error: job.error ?? null,
  error_message: job.error?.message ?? null,
  estimated_completion: job.status === "pending" || job.status === "running" ? estimateCompletion(job) : null,
  created_at: job.createdAt.toISOString(),
  started_at: job.startedAt?.toISOString() ?? null,
  completed_at: job.completedAt?.toISOString() ?? null,
});

/** What `POST /jobs` takes (validated at the edge). */
export type CreateJobInput = {
  source_type: ExtractionSourceType;
  source_url?: string | undefined;
  document_id?: string | undefined;
  crawl?: CrawlBounds | undefined;
  schema: { columns: ExtractionColumn[] };
  validation_rules: Record<string, ColumnRules>;
  output_format: ExportFormat;
  webhook_url?: string | undefined;
};

/** Puts a job's run on the `extraction` queue; if the queue refuses, the job fails (retryable) and says why. */
const enqueue = async (ctx: ServiceContext, jobId: string) => {
  try {
    await ctx.env.EXTRACTION_QUEUE.send({ v: 1, kind: "extraction.run", jobId });
  } catch (error) {
    ctx.log.error("extraction queue refused a message", { jobId, error });
    await ctx.db
      .update(extractionJobs)
      .set({
        status: "failed",
        error: { code: "QUEUE_UNAVAILABLE", message: "The extraction queue was unavailable; retry.", retryable: true },
      })
      .where(eq(extractionJobs.id, jobId));
    throw new ApiError("NOT_READY", "The extraction queue is unavailable; the job is kept, retry it later.", {
      cause: error,
    });
  }
};

/**
 * Creates a job and queues it. A web source's URL passes the safe-fetch checks now (a private address is a
 * 400 before anything is stored); a document must be the caller's. With an `Idempotency-Key`, a repeat of the
 * same key answers the first job instead of starting another.
 * @example
 * const job = await createJob({ ctx, input, idempotencyKey: "import-2024-06-01" });
 */
export const createJob = async ({
  ctx,
  input,
  idempotencyKey,
}: {
  ctx: ServiceContext;
  input: CreateJobInput;
  idempotencyKey?: string | undefined;
}) => {
  const userId = requireUser(ctx);
  if (idempotencyKey) {
    const [earlier] = await ctx.db
      .select()
      .from(extractionJobs)
      .where(and(eq(extractionJobs.userId, userId), eq(extractionJobs.idempotencyKey, idempotencyKey)));
    if (earlier) return { job: publicJob(earlier), repeated: true, webhook: null };
  }
  let document: Awaited<ReturnType<typeof requireDocument>> | null = null;
  if (input.source_type === "document") {
    if (!input.document_id)
      throw new ApiError("VALIDATION_FAILED", "body.document_id: is required for a document source.");
    document = await requireDocument({ ctx, id: input.document_id });
  } else {
    if (!input.source_url) throw new ApiError("VALIDATION_FAILED", "body.source_url: is required for a web source.");
    try {
      await safeFetchFromEnv(ctx.env).check(input.source_url);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ApiError("VALIDATION_FAILED", `body.source_url: ${reason}`, { cause: error });
    }
  }
  // The job's own webhook URL is an endpoint of the account (checked as every endpoint is), made if new.
  const hook = input.webhook_url
    ? await ensureJobEndpoint(ctx, { url: input.webhook_url, field: "body.webhook_url" })
    : null;
  const webhook = hook ? { endpoint_id: hook.endpoint.id, secret: hook.secret } : null;
  const [job] = await ctx.db
    .insert(extractionJobs)
    .values({
      userId,
      sourceType: input.source_type,
      sourceUrl: input.source_url ?? null,
      sourceDocumentId: document?.id ?? null,
      sourceFilePath: document?.objectKey ?? null,
      crawlBounds: input.source_type === "web_crawl" ? (input.crawl ?? defaultBounds) : null,
      schemaDefinition: input.schema,
      validationRules: input.validation_rules,
      outputFormat: input.output_format,
      webhookUrl: hook?.url ?? null,
      idempotencyKey: idempotencyKey ?? null,
    })
    .onConflictDoNothing({ target: [extractionJobs.userId, extractionJobs.idempotencyKey] })
    .returning();
  if (!job) {
    // The same key, sent twice at once: the other request's job is the answer.
    const [earlier] = await ctx.db
      .select()
      .from(extractionJobs)
      .where(and(eq(extractionJobs.userId, userId), eq(extractionJobs.idempotencyKey, idempotencyKey ?? "")));
    if (!earlier) throw new Error("idempotent insert found neither a new nor an earlier job");
    return { job: publicJob(earlier), repeated: true, webhook: null };
  }
  await enqueue(ctx, job.id);
  ctx.audit({ action: "extraction.create", resourceType: "extraction_job", resourceId: job.id });
  return { job: publicJob(job), repeated: false, webhook };
};

/** A crawl's bounds when the request gives none. */
export const defaultBounds: CrawlBounds = { max_pages: 10, max_depth: 2, same_site_only: true };

/** The owner check every job route starts with (404 for malformed, unknown and someone else's ids alike). */
export const requireJob = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const userId = requireUser(ctx);
  if (!isId("ext", id)) throw notFound(id);
  const [job] = await ctx.db
    .select()
    .from(extractionJobs)
    .where(and(eq(extractionJobs.id, id), eq(extractionJobs.userId, userId)));
  if (!job) throw notFound(id);
  return job;
};

/** One of the caller's jobs, with its progress. */
export const getJob = async ({ ctx, id }: { ctx: ServiceContext; id: string }) =>
  publicJob(await requireJob({ ctx, id }));

/** The caller's jobs, newest first, cursor-paginated, optionally of one status and source type. */
export const listJobs = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    limit: number;
    cursor?: string | undefined;
    status?: ExtractionStatus | undefined;
    source_type?: ExtractionSourceType | undefined;
  };
}) => {
  const userId = requireUser(ctx);
  const rows = await ctx.db
    .select()
    .from(extractionJobs)
    .where(
      and(
        eq(extractionJobs.userId, userId),
        input.cursor ? lt(extractionJobs.id, input.cursor) : undefined,
        input.status ? eq(extractionJobs.status, input.status) : undefined,
        input.source_type ? eq(extractionJobs.sourceType, input.source_type) : undefined,
      ),
    )
    .orderBy(desc(extractionJobs.id))
    .limit(input.limit + 1);
  return cursorPage(rows, input.limit, publicJob);
};

const requireResult = (job: ExtractionJob) => {
  if (job.status !== "completed" || !job.resultKey) {
    throw new ApiError("CONFLICT", `Job ${job.id} is ${job.status}; its rows are there once it has completed.`, {
      extensions: { status: job.status },
    });
  }
  return { prefix: job.resultKey, objects: job.resultPages ?? 0 };
};

/**
 * A completed job's rows, `limit` from the `cursor` (a row index), optionally only the valid or invalid ones,
 * each with its errors, provenance and per-value confidence.
 */
export const listJobRows = async ({
  ctx,
  id,
  input,
}: {
  ctx: ServiceContext;
  id: string;
  input: { limit: number; cursor?: string | undefined; valid?: "true" | "false" | undefined };
}) => {
  const job = await requireJob({ ctx, id });
  const result = requireResult(job);
  const offset = input.cursor ? Math.max(0, Number.parseInt(input.cursor, 10) || 0) : 0;
  const wanted = input.valid === undefined ? null : input.valid === "true";
  const items: Array<StoredRow & { row: number }> = [];
  let next: string | null = null;
  for await (const { index, ...row } of readRows(ctx.env.FILES, result, offset)) {
    if (wanted !== null && row.valid !== wanted) continue;
    if (items.length === input.limit) {
      next = String(index);
      break;
    }
    items.push({ row: index, ...row });
  }
  return {
    items,
    next_cursor: next,
    rows_extracted: job.rowsExtracted,
    rows_valid: job.rowsValid,
  };
};

/**
 * A completed job's rows as a streamed file in `format` (the job's `output_format` by default), read from R2
 * an object at a time. `include_validity` adds `_valid` and `_errors` columns.
 */
export const exportJob = async ({
  ctx,
  id,
  input,
}: {
  ctx: ServiceContext;
  id: string;
  input: { format?: ExportFormat | undefined; include_validity: boolean };
}) => {
  const job = await requireJob({ ctx, id });
  const result = requireResult(job);
  const format = input.format ?? (job.outputFormat as ExportFormat);
  const bucket = ctx.env.FILES;
  const rows = (async function* () {
    for await (const row of readRows(bucket, result))
      yield { values: row.values, valid: row.valid, errors: row.errors };
  })();
  const exported = exportRows(format, {
    columns: job.schemaDefinition.columns,
    rows,
    includeValidity: input.include_validity,
  });
  return { ...exported, filename: exported.filename(job.id) };
};

/** Stops a pending or running job: the run sees it at its next step and writes nothing. */
export const cancelJob = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const job = await requireJob({ ctx, id });
  const [cancelled] = await ctx.db
    .update(extractionJobs)
    .set({ status: "cancelled", leaseUntil: null, completedAt: new Date() })
    .where(and(eq(extractionJobs.id, job.id), inArray(extractionJobs.status, ["pending", "running"])))
    .returning();
  if (!cancelled)
    throw new ApiError("CONFLICT", `Job ${id} is ${job.status}; only a pending or running job can be cancelled.`);
  ctx.audit({ action: "extraction.cancel", resourceType: "extraction_job", resourceId: id });
  return publicJob(cancelled);
};

/** Runs a failed or cancelled job again; its earlier error is kept until the new run replaces it. */
export const retryJob = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const job = await requireJob({ ctx, id });
  const [queued] = await ctx.db
    .update(extractionJobs)
    .set({ status: "pending", leaseUntil: null, completedAt: null, progress: null, slices: 0, checkpoint: null })
    .where(and(eq(extractionJobs.id, job.id), inArray(extractionJobs.status, ["failed", "cancelled"])))
    .returning();
  if (!queued)
    throw new ApiError("CONFLICT", `Job ${id} is ${job.status}; only a failed or cancelled job can be retried.`);
  await enqueue(ctx, id);
  ctx.audit({ action: "extraction.retry", resourceType: "extraction_job", resourceId: id });
  return publicJob(queued);
};
