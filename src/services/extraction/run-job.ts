import { and, eq, type SQL, sql } from "drizzle-orm";
import {
  type ExtractionFailure,
  type ExtractionJob,
  type ExtractionProgress,
  extractionJobs,
} from "../../db/schema/index.js";
import { firecrawlFromEnv } from "../../integrations/firecrawl.js";
import type { ServiceContext } from "../context.js";
import { deadLettered, EXTRACTION_JOBS, heldBy, keepHold, runLeased, type SliceResult } from "../jobs/lease.js";
import { type JobOutcome, LostHold } from "../jobs/outcome.js";
import type { SliceBudget } from "../jobs/slice.js";
import { recordEvent, sendFirstAttempts } from "../webhooks/events.js";
import { extractionEventData } from "../webhooks/payloads.js";
import { crawledPages, readCrawlSlice } from "./crawl-firecrawl.js";
import { extractRowsWithModel } from "./llm-rows.js";
import { deleteResultObjects, resultPrefix, type StoredRow, writeRows } from "./results.js";
import { readSource, type SourceContent, type SourcePage } from "./sources.js";
import { mapHeaders, mapsToSchema, rowsFromTable } from "./tabular.js";
import { type ColumnRules, validateRows } from "./validate.js";
import type { ColumnSpec } from "./values.js";
import { normaliseValue } from "./values.js";

type Row = Omit<StoredRow, "valid" | "errors">;

/** Writes progress while this run still holds the job; says whether it does (false: cancelled or taken over). */
const report = async (ctx: ServiceContext, job: ExtractionJob, progress: ExtractionProgress) => {
  try {
    await keepHold(ctx, EXTRACTION_JOBS, job, { progress });
    return true;
  } catch (error) {
    if (error instanceof LostHold) return false;
    throw error;
  }
};

/** A row's key for merging: its normalised values, so the same item read twice is one row. */
const rowKey = (columns: ColumnSpec[], values: Record<string, unknown>) =>
  JSON.stringify(
    columns.map((column) => {
      const normalised = normaliseValue(column, values[column.name]);
      return normalised.ok ? normalised.value : String(values[column.name] ?? "");
    }),
  );

/** Rows read by code from the tables whose headers map to the schema; pages with none are left to the model. */
const tabularRows = (columns: ColumnSpec[], pages: SourcePage[]) => {
  const rows: Row[] = [];
  const rest: SourcePage[] = [];
  for (const page of pages) {
    let mapped = false;
    for (const table of page.tables) {
      const mapping = mapHeaders(table.headers, columns);
      if (!mapsToSchema(mapping, columns)) continue;
      mapped = true;
      for (const [index, values] of rowsFromTable(table, mapping.mapping, columns).entries()) {
        rows.push({
          values,
          provenance: { source: page.source, page: page.page, quote: (table.rows[index] ?? []).join(" | ") },
          confidence: Object.fromEntries(
            columns.map((column) => [column.name, column.name in mapping.mapping ? 1 : 0]),
          ),
        });
      }
    }
    if (!mapped) rest.push(page);
  }
  return { rows, rest };
};

/**
 * One delivery of `extraction.run`, a slice of the job: reads the source (a document, a page, or a crawl,
 * which a Firecrawl crawl does across as many slices as it takes, checkpointing where its results resume),
 * then reads rows by code from tables whose headers map to the schema and with the model from the rest,
 * merges rows seen twice, normalises and validates every row, writes the rows to R2, and then, in one
 * update, completes the job pointing at them. Idempotent: a duplicate delivery finds the job taken or done.
 * A run that was cancelled or taken over commits nothing; a busy source is retried with backoff.
 * @example
 * const outcome = await runExtractionJob({ ctx, jobId: "ext_…", delivery: { attempts: 1, last: false } });
 */
export const runExtractionJob = ({
  ctx,
  jobId,
  delivery,
}: {
  ctx: ServiceContext;
  jobId: string;
  delivery: { attempts: number; last: boolean };
}): Promise<JobOutcome> =>
  runLeased({
    ctx,
    kind: EXTRACTION_JOBS,
    id: jobId,
    delivery,
    claimSet: { startedAt: sql`coalesce(${extractionJobs.startedAt}, now())` },
    work: (job, slice) => runSlice(ctx, job, slice),
    cleanUp: (job) => deleteResultObjects(ctx.env.FILES, resultPrefix(job.userId, job.id, job.attempt)),
    // A model that keeps failing is the owner's to retry, not the queue's.
    queueRetries: (failure) => failure.code !== "ALL_PROVIDERS_FAILED",
    fail: (job, failure) => failJob(ctx, heldBy(EXTRACTION_JOBS, job), failure),
  });

const runSlice = async (ctx: ServiceContext, job: ExtractionJob, slice: SliceBudget): Promise<SliceResult> => {
  // The run acts for the job's owner: its model calls count against their budget and usage.
  ctx.caller = { kind: "job", userId: job.userId, jobId: job.id };
  const columns = job.schemaDefinition.columns as ColumnSpec[];
  const rules = (job.validationRules ?? {}) as Record<string, ColumnRules>;
  const progress: ExtractionProgress = job.progress ?? {
    stage: "fetching",
    pages_fetched: 0,
    pages_total: null,
    rows_so_far: 0,
  };
  const prefix = resultPrefix(job.userId, job.id, job.attempt);
  const onPages = async (fetched: number, total: number | null) => {
    progress.pages_fetched = fetched;
    progress.pages_total = total;
    await report(ctx, job, progress);
  };
  const firecrawl = job.sourceType === "web_crawl" ? firecrawlFromEnv(ctx.env) : null;
  let source: SourceContent;
  if (firecrawl) {
    const checkpoint = await readCrawlSlice({ ctx, job, firecrawl, slice, onPages });
    if (!checkpoint.done) return { next: { checkpoint, progress } };
    source = await crawledPages(ctx, checkpoint);
  } else source = await readSource(ctx, job, onPages);
  progress.skipped_pages = source.skipped;
  progress.truncated = source.truncated;
  progress.pages_fetched = source.pages.length;
  progress.stage = "extracting";
  if (!(await report(ctx, job, progress))) return { done: "cancelled" };

  const byCode = tabularRows(columns, source.pages);
  let modelCalls = 0;
  let fromModel: Row[] = [];
  const withText = byCode.rest.filter((page) => page.text.trim());
  if (withText.length > 0) {
    const extracted = await extractRowsWithModel({
      ctx,
      columns,
      pages: withText.map((page) => ({ source: page.source, page: page.page, text: page.text })),
      onProgress: async ({ rowsSoFar }) => {
        progress.rows_so_far = byCode.rows.length + rowsSoFar;
        await report(ctx, job, progress);
      },
    });
    modelCalls = extracted.calls;
    fromModel = extracted.rows;
  }

  // The same item read twice (on two pages, or from two overlapping passages) is kept once, first seen.
  const seen = new Set<string>();
  const merged = [...byCode.rows, ...fromModel].filter((row) => {
    const key = rowKey(columns, row.values);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  progress.stage = "validating";
  progress.rows_so_far = merged.length;
  if (!(await report(ctx, job, progress))) return { done: "cancelled" };
  const checked = validateRows({ columns, rules, rows: merged.map((row) => row.values) });
  const stored: StoredRow[] = merged.map((row, index) => {
    const result = checked.rows[index];
    return {
      values: result?.values ?? row.values,
      valid: result?.valid ?? false,
      errors: result?.errors ?? [],
      provenance: row.provenance,
      confidence: row.confidence,
    };
  });

  progress.stage = "writing";
  if (!(await report(ctx, job, progress))) return { done: "cancelled" };
  const objects = await writeRows(ctx.env.FILES, prefix, stored);
  // The rows become the job's result in this one update, or not at all (cancelled or taken over meanwhile);
  // the webhook event is recorded with it.
  const completed = await ctx.db.transaction(async (tx) => {
    const [done] = await tx
      .update(extractionJobs)
      .set({
        status: "completed",
        leaseUntil: null,
        error: null,
        resultKey: prefix,
        resultPages: objects,
        rowsExtracted: stored.length,
        rowsValid: checked.valid,
        modelCalls,
        progress: { ...progress, stage: "done" },
        completedAt: new Date(),
      })
      .where(heldBy(EXTRACTION_JOBS, job))
      .returning({ id: extractionJobs.id });
    if (!done) return null;
    return recordEvent(tx, {
      userId: job.userId,
      type: "extraction.completed",
      webhookUrl: job.webhookUrl,
      data: extractionEventData({
        id: job.id,
        status: "completed",
        rowsExtracted: stored.length,
        rowsValid: checked.valid,
        pagesFetched: progress.pages_fetched,
      }),
    });
  });
  if (!completed) {
    await deleteResultObjects(ctx.env.FILES, prefix);
    return { done: "cancelled" };
  }
  await sendFirstAttempts(ctx, completed);
  if (job.checkpoint) await deleteResultObjects(ctx.env.FILES, job.checkpoint.pages_prefix).catch(() => undefined);
  ctx.log.info("extraction completed", { jobId: job.id, rows: stored.length, valid: checked.valid, modelCalls });
  return { done: "completed" };
};

/**
 * Fails the job `where` selects with `failure`, and records `extraction.failed` in the same transaction, so
 * the owner's endpoints (and the job's own `webhook_url`) hear of it exactly when it happened.
 */
const failJob = async (ctx: ServiceContext, where: SQL | undefined, failure: ExtractionFailure) => {
  const deliveries = await ctx.db.transaction(async (tx) => {
    const [failed] = await tx
      .update(extractionJobs)
      .set({ status: "failed", error: failure, leaseUntil: null, completedAt: new Date() })
      .where(where)
      .returning({ id: extractionJobs.id, userId: extractionJobs.userId, webhookUrl: extractionJobs.webhookUrl });
    if (!failed) return [];
    return recordEvent(tx, {
      userId: failed.userId,
      type: "extraction.failed",
      webhookUrl: failed.webhookUrl,
      data: extractionEventData({ id: failed.id, status: "failed", error: failure }),
    });
  });
  await sendFirstAttempts(ctx, deliveries);
};

/** A dead-lettered run: the job fails with that reason, unless it finished or was cancelled meanwhile. */
export const failDeadLetteredJob = async ({ ctx, jobId }: { ctx: ServiceContext; jobId: string }) => {
  await failJob(
    ctx,
    and(eq(extractionJobs.id, jobId), sql`${extractionJobs.status} in ('pending', 'running')`),
    deadLettered("job"),
  );
};
