import type { z } from "@hono/zod-openapi";
import type { ServiceContext } from "../../../../services/context.js";
import { getJob, listJobRows, type publicJob } from "../../../../services/extraction/jobs.js";
import { followUntilDone } from "../../../../services/mcp/follow.js";
import { type ExtractionResultSchema, extractionUri, INLINE_ROWS } from "../schemas.js";
import type { ToolCall, ToolLink } from "../tool.js";

type PublicJob = ReturnType<typeof publicJob>;

const ENDED = new Set(["completed", "failed", "cancelled"]);

// A job says its stage and page counts, not a percentage: each stage gets a span, fetching moves by pages.
const STAGE_PERCENT: Record<string, number> = {
  queued: 0,
  fetching: 5,
  extracting: 50,
  validating: 80,
  writing: 90,
  done: 100,
};

const percentOf = (job: PublicJob) => {
  if (ENDED.has(job.status)) return 100;
  const { stage, pages_fetched, pages_total } = job.progress;
  const base = STAGE_PERCENT[stage] ?? 0;
  if (stage !== "fetching" || !pages_total) return base;
  return base + Math.floor((40 * Math.min(pages_fetched, pages_total)) / pages_total);
};

const messageOf = (job: PublicJob) =>
  ENDED.has(job.status)
    ? `${job.status}: ${job.rows_extracted} rows, ${job.rows_valid} valid`
    : `${job.status}: ${job.progress.stage}, ${job.progress.pages_fetched} pages read, ${job.progress.rows_so_far} rows so far`;

/** A job as the extraction tools answer it: once completed, its first rows and a link to all of them as CSV. */
const resultOf = async (
  ctx: ServiceContext,
  job: PublicJob,
): Promise<{ result: z.input<typeof ExtractionResultSchema>; links?: ToolLink[] }> => {
  if (job.status !== "completed") return { result: { ...job, rows: [], more_rows: false, resource_uri: null } };
  const page = await listJobRows({ ctx, id: job.id, input: { limit: INLINE_ROWS } });
  const uri = extractionUri(job.id);
  return {
    result: { ...job, rows: page.items, more_rows: page.next_cursor !== null, resource_uri: uri },
    links: [
      {
        uri,
        name: `extraction-${job.id}.csv`,
        mimeType: "text/csv",
        description: `All ${job.rows_extracted} rows (${job.rows_valid} valid) as CSV, with _valid and _errors columns.`,
      },
    ],
  };
};

/**
 * Answers a job; when the client asked for progress and the job is still queued or running, first follows it
 * (bounded by the call's wait), one notification each time it moves on.
 */
export const extractionResult = async (job: PublicJob, call: ToolCall) => {
  const { progress } = call;
  if (!progress || ENDED.has(job.status)) return resultOf(call.ctx, job);
  const last = await followUntilDone({
    read: () => getJob({ ctx: call.ctx, id: job.id }),
    done: (current) => ENDED.has(current.status),
    report: (current) => ({ progress: percentOf(current), message: messageOf(current) }),
    onProgress: (report) => progress(report.progress, report.message),
    waitMs: call.waitMs,
    signal: call.signal,
  });
  return resultOf(call.ctx, last);
};
