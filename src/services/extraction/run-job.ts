import { and, eq, lt, or, type SQL, sql } from "drizzle-orm";
import {
  type ExtractionFailure,
  type ExtractionJob,
  type ExtractionProgress,
  extractionJobs,
} from "../../db/schema/index.js";
import { FirecrawlFailure } from "../../integrations/firecrawl.js";
import { SafeFetchError } from "../../integrations/safe-fetch.js";
import { WebReadError } from "../../integrations/web-reader.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";
import { DocumentError } from "../documents/extract/errors.js";
import { recordEvent, sendFirstAttempts } from "../webhooks/events.js";
import { extractionEventData } from "../webhooks/payloads.js";
import { extractRowsWithModel } from "./llm-rows.js";
import { deleteResultObjects, resultPrefix, type StoredRow, writeRows } from "./results.js";
import { readSource, type SourcePage } from "./sources.js";
import { mapHeaders, mapsToSchema, rowsFromTable } from "./tabular.js";
import { type ColumnRules, validateRows } from "./validate.js";
import type { ColumnSpec } from "./values.js";
import { normaliseValue } from "./values.js";

/** How long one run holds a job before another delivery may take it over. */
const LEASE_SECONDS = 15 * 60;

/** What one delivery of `extraction.run` came to, for the queue consumer to ack or retry. */
export type RunOutcome =
  | { ok: true; status: "completed" | "failed" | "cancelled" | "skipped" }
  | { ok: false; error: string; retryAfterSeconds: number };

type Row = Omit<StoredRow, "valid" | "errors">;

const failureOf = (error: unknown): ExtractionFailure => {
  if (error instanceof ApiError) {
    // A model that answered garbage may answer well next time: the owner can retry, the queue does not.
    const retryable = error.code === "NOT_READY" || error.code === "ALL_PROVIDERS_FAILED";
    return { code: error.code, message: error.message, retryable };
  }
  if (error instanceof DocumentError) return { code: error.code, message: error.message, retryable: error.retryable };
  if (error instanceof SafeFetchError) {
    return { code: `FETCH_${error.code}`, message: error.message, retryable: error.retryable };
  }
  if (error instanceof WebReadError) {
    return { code: `FETCH_${error.reason.toUpperCase()}`, message: error.message, retryable: error.retryable };
  }
  if (error instanceof FirecrawlFailure) {
    return { code: `FIRECRAWL_${error.code}`, message: error.message, retryable: error.retryable };
  }
  return { code: "EXTRACTION_CRASHED", message: "The job stopped unexpectedly; it is retried.", retryable: true };
};

/** Takes the job for this run: `pending`, or `running` with a lapsed lease. */
const claim = async (ctx: ServiceContext, jobId: string) => {
  const progress: ExtractionProgress = { stage: "fetching", pages_fetched: 0, pages_total: null, rows_so_far: 0 };
  const [claimed] = await ctx.db
    .update(extractionJobs)
    .set({
      status: "running",
      attempt: sql`${extractionJobs.attempt} + 1`,
      leaseUntil: sql`now() + make_interval(secs => ${LEASE_SECONDS})`,
      startedAt: new Date(),
      progress,
    })
    .where(
      and(
        eq(extractionJobs.id, jobId),
        or(
          eq(extractionJobs.status, "pending"),
          and(eq(extractionJobs.status, "running"), lt(extractionJobs.leaseUntil, sql`now()`)),
        ),
      ),
    )
    .returning();
  if (claimed) return { claimed } as const;
  const [row] = await ctx.db
    .select({ status: extractionJobs.status, leaseUntil: extractionJobs.leaseUntil })
    .from(extractionJobs)
    .where(eq(extractionJobs.id, jobId));
  return { claimed: null, current: row ?? null } as const;
};

/** Writes progress while this run still holds the job; says whether it does (false: cancelled or taken over). */
const report = async (ctx: ServiceContext, job: ExtractionJob, progress: ExtractionProgress) => {
  const [held] = await ctx.db
    .update(extractionJobs)
    .set({ progress })
    .where(
      and(eq(extractionJobs.id, job.id), eq(extractionJobs.attempt, job.attempt), eq(extractionJobs.status, "running")),
    )
    .returning({ id: extractionJobs.id });
  return Boolean(held);
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
 * One delivery of `extraction.run`: reads the source (a document, a page or a crawl, followed to its end),
 * reads rows by code from tables whose headers map to the schema and with the model from the rest, merges
 * rows seen twice, normalises and validates every row, writes the rows to R2, and then, in one update,
 * completes the job pointing at them. Idempotent: a duplicate delivery finds the job taken or done. A run
 * that was cancelled or taken over commits nothing; a busy source is retried with backoff.
 * @example
 * const outcome = await runExtractionJob({ ctx, jobId: "ext_…", delivery: { attempts: 1, last: false } });
 */
export const runExtractionJob = async ({
  ctx,
  jobId,
  delivery,
}: {
  ctx: ServiceContext;
  jobId: string;
  delivery: { attempts: number; last: boolean };
}): Promise<RunOutcome> => {
  const taken = await claim(ctx, jobId);
  if (!taken.claimed) {
    const current = taken.current;
    if (current?.status !== "running") return { ok: true, status: "skipped" };
    const wait = Math.max(5, Math.ceil(((current?.leaseUntil?.getTime() ?? Date.now()) - Date.now()) / 1000));
    return { ok: false, error: "another run holds the job", retryAfterSeconds: wait };
  }
  const job = taken.claimed;
  // The run acts for the job's owner: its model calls count against their budget and usage.
  ctx.caller = { kind: "job", userId: job.userId, jobId: job.id };
  const columns = job.schemaDefinition.columns as ColumnSpec[];
  const rules = (job.validationRules ?? {}) as Record<string, ColumnRules>;
  const progress: ExtractionProgress = { stage: "fetching", pages_fetched: 0, pages_total: null, rows_so_far: 0 };
  const prefix = resultPrefix(job.userId, job.id, job.attempt);
  try {
    const source = await readSource(ctx, job, async (fetched, total) => {
      progress.pages_fetched = fetched;
      progress.pages_total = total;
      await report(ctx, job, progress);
    });
    progress.skipped_pages = source.skipped;
    progress.truncated = source.truncated;
    progress.pages_fetched = source.pages.length;
    progress.stage = "extracting";
    if (!(await report(ctx, job, progress))) return { ok: true, status: "cancelled" };

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
    if (!(await report(ctx, job, progress))) return { ok: true, status: "cancelled" };
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
    if (!(await report(ctx, job, progress))) return { ok: true, status: "cancelled" };
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
        .where(
          and(
            eq(extractionJobs.id, job.id),
            eq(extractionJobs.attempt, job.attempt),
            eq(extractionJobs.status, "running"),
          ),
        )
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
      return { ok: true, status: "cancelled" };
    }
    await sendFirstAttempts(ctx, completed);
    ctx.log.info("extraction completed", { jobId: job.id, rows: stored.length, valid: checked.valid, modelCalls });
    return { ok: true, status: "completed" };
  } catch (error) {
    const failure = failureOf(error);
    if (failure.code === "EXTRACTION_CRASHED") ctx.log.error("extraction crashed", { jobId: job.id, error });
    else ctx.log.warn("extraction failed", { jobId: job.id, code: failure.code, retryable: failure.retryable });
    await deleteResultObjects(ctx.env.FILES, prefix).catch(() => undefined);
    const queueRetries = failure.retryable && failure.code !== "ALL_PROVIDERS_FAILED" && !delivery.last;
    if (queueRetries) {
      await ctx.db
        .update(extractionJobs)
        .set({ status: "pending", error: failure, leaseUntil: null })
        .where(
          and(
            eq(extractionJobs.id, job.id),
            eq(extractionJobs.attempt, job.attempt),
            eq(extractionJobs.status, "running"),
          ),
        );
      return { ok: false, error: failure.message, retryAfterSeconds: Math.min(300, 5 * 2 ** delivery.attempts) };
    }
    await failJob(
      ctx,
      and(eq(extractionJobs.id, job.id), eq(extractionJobs.attempt, job.attempt), eq(extractionJobs.status, "running")),
      failure,
    );
    return { ok: true, status: "failed" };
  }
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
  await failJob(ctx, and(eq(extractionJobs.id, jobId), sql`${extractionJobs.status} in ('pending', 'running')`), {
    code: "DEAD_LETTERED",
    message: "The job failed on every delivery and was set aside; retry it.",
    retryable: true,
  });
};
