import { and, eq, lt, or, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Database } from "../../db/client.js";
import { documents, extractionJobs, researchSessions } from "../../db/schema/index.js";
import type { Env } from "../../env.js";
import type { ServiceContext } from "../context.js";
import { backoffSeconds, failureOf, hintedWaitOf } from "./failure.js";
import { type JobFailure, type JobOutcome, LostHold } from "./outcome.js";
import { createSliceBudget, type SliceBudget } from "./slice.js";

/** A table whose rows are taken under a lease: an id, a status, and until when the current holder holds it. */
type LeaseTable = PgTable & { id: PgColumn; status: PgColumn; leaseUntil: PgColumn };

/** A job table: a lease table with the columns of `leaseColumns()` and an `error`. */
type JobTable = LeaseTable & { attempt: PgColumn; slices: PgColumn; error: PgColumn };

/** A row is waited for this long past its `lease_until` before the sweep queues its message again. */
export const OVERDUE_SECONDS = 60;

/**
 * Takes a row for one run, if no other run holds it: `waiting` (and `waitingWhen`, if given), or `holding`
 * with a lapsed lease. Sets `holding`, the lease and `set`; returns the row as taken, or its status and lease
 * as found (null when there is no such row). The one claim of every queue-driven job, webhook deliveries too.
 * @example
 * const taken = await takeLease(db, { table: webhookDeliveries, id, waiting: "pending", holding: "sending", leaseSeconds: 60, set: { attempts: sql`attempts + 1` } });
 */
export const takeLease = async <T extends LeaseTable>(
  db: Database,
  options: {
    table: T;
    id: string;
    waiting: string;
    holding: string;
    leaseSeconds: number;
    set: Record<string, unknown>;
    waitingWhen?: SQL;
  },
): Promise<
  { claimed: T["$inferSelect"] } | { claimed: null; current: { status: string; leaseUntil: Date | null } | null }
> => {
  const t = options.table;
  const waiting = options.waitingWhen
    ? and(eq(t.status, options.waiting), options.waitingWhen)
    : eq(t.status, options.waiting);
  const [claimed] = await db
    // biome-ignore lint/suspicious/noExplicitAny: the tables share these columns, which drizzle cannot type generically
    .update(t as any)
    .set({
      status: options.holding,
      leaseUntil: sql`now() + make_interval(secs => ${options.leaseSeconds})`,
      ...options.set,
    })
    .where(and(eq(t.id, options.id), or(waiting, and(eq(t.status, options.holding), lt(t.leaseUntil, sql`now()`)))))
    .returning();
  if (claimed) return { claimed: claimed as T["$inferSelect"] };
  const [current] = await db
    .select({ status: t.status, leaseUntil: t.leaseUntil })
    // biome-ignore lint/suspicious/noExplicitAny: as above
    .from(t as any)
    .where(eq(t.id, options.id));
  return { claimed: null, current: (current as { status: string; leaseUntil: Date | null } | undefined) ?? null };
};

/**
 * What a delivery that found its row taken comes to: nothing to do when the row is done, gone or waiting on a
 * message of its own; otherwise another run holds it, so this delivery comes back once that lease lapses, in
 * case that run died.
 */
export const notClaimed = (
  current: { status: string; leaseUntil: Date | null } | null,
  holding: string,
  noun: string,
): JobOutcome => {
  if (current?.status !== holding) return { ok: true, status: "skipped" };
  const wait = Math.max(5, Math.ceil(((current.leaseUntil?.getTime() ?? Date.now()) - Date.now()) / 1000));
  return { ok: false, error: `another run holds the ${noun}`, retryAfterSeconds: wait };
};

/** A kind of job: its table, the status it runs under, and the message that runs it. */
export type JobKind<T extends JobTable> = {
  table: T;
  noun: string;
  /** The log field that names a job of this kind. */
  logKey: string;
  holding: string;
  crashedCode: string;
  send: (env: Env, id: string) => Promise<void>;
};

export const DOCUMENT_JOBS: JobKind<typeof documents> = {
  table: documents,
  noun: "document",
  logKey: "documentId",
  holding: "processing",
  crashedCode: "INGESTION_CRASHED",
  send: async (env, id) => {
    await env.DOCUMENTS_QUEUE.send({ v: 1, kind: "document.ingest", documentId: id });
  },
};

export const EXTRACTION_JOBS: JobKind<typeof extractionJobs> = {
  table: extractionJobs,
  noun: "job",
  logKey: "jobId",
  holding: "running",
  crashedCode: "EXTRACTION_CRASHED",
  send: async (env, id) => {
    await env.EXTRACTION_QUEUE.send({ v: 1, kind: "extraction.run", jobId: id });
  },
};

export const RESEARCH_JOBS: JobKind<typeof researchSessions> = {
  table: researchSessions,
  noun: "session",
  logKey: "researchId",
  holding: "running",
  crashedCode: "RESEARCH_CRASHED",
  send: async (env, id) => {
    await env.RESEARCH_QUEUE.send({ v: 1, kind: "research.run", sessionId: id });
  },
};

/** The lease a slice takes: its time, and room for the unit of work under way when the time is up. */
const leaseSecondsOf = (env: Pick<Env, "JOB_SLICE_SECONDS">) => env.JOB_SLICE_SECONDS + 300;

/**
 * The fence a run writes under: its row still on the claim's attempt and slice, and still running. A stale
 * delivery, a cancelled job and a newer slice all fail it, so they are never overwritten.
 */
export const heldBy = <T extends JobTable>(kind: JobKind<T>, job: { id: string; attempt: number; slices: number }) =>
  and(
    eq(kind.table.id, job.id),
    eq(kind.table.attempt, job.attempt),
    eq(kind.table.slices, job.slices),
    eq(kind.table.status, kind.holding),
  ) as SQL;

/**
 * Renews this run's lease (and writes `set`, e.g. progress); throws {@link LostHold} when the run no longer
 * holds the job.
 */
export const keepHold = async <T extends JobTable>(
  ctx: ServiceContext,
  kind: JobKind<T>,
  job: { id: string; attempt: number; slices: number },
  set: Record<string, unknown> = {},
) => {
  const held = await ctx.db
    // biome-ignore lint/suspicious/noExplicitAny: see takeLease
    .update(kind.table as any)
    .set({ leaseUntil: sql`now() + make_interval(secs => ${leaseSecondsOf(ctx.env)})`, ...set })
    .where(heldBy(kind, job))
    .returning({ id: kind.table.id });
  if (held.length === 0) throw new LostHold();
};

/** What a slice of work came to: the job is done (or was found cancelled), or it goes on in a next slice. */
export type SliceResult = { done: "completed" | "ready" | "cancelled" | "failed" } | { next: Record<string, unknown> };

/**
 * Runs one delivery of a job under its lease: claims it (a new attempt, unless this carries on after a clean
 * slice), runs `work` with a slice budget, and settles what came of it:
 * - done: acknowledged;
 * - `next`: checkpointed with `next`'s columns, given up to `pending` and its next slice queued at once, which
 *   spends no retry (the next message starts at its first delivery); a lost message is queued again by the
 *   sweep once `lease_until` passes;
 * - thrown: mapped by {@link failureOf}; a retryable failure (and `queueRetries` agreeing) before the
 *   queue's last delivery is given back to `pending` and retried with backoff, anything else fails the job
 *   through `fail`, which records its event.
 * @example
 * return runLeased({ ctx, kind: EXTRACTION_JOBS, id: jobId, delivery, work: (job, slice) => …, fail: … });
 */
export const runLeased = async <T extends JobTable>(options: {
  ctx: ServiceContext;
  kind: JobKind<T>;
  id: string;
  delivery: { attempts: number; last: boolean };
  /** More to set on the claim (e.g. `startedAt`). */
  claimSet?: Record<string, unknown>;
  work: (job: T["$inferSelect"], slice: SliceBudget) => Promise<SliceResult>;
  /** Fails the job (held by this run) with `failure`, recording its event. */
  fail: (job: T["$inferSelect"], failure: JobFailure) => Promise<void>;
  /** Clean-up before a retry or a failure (R2 objects the run wrote). */
  cleanUp?: (job: T["$inferSelect"]) => Promise<void>;
  /** Whether the queue retries this retryable failure (default yes). */
  queueRetries?: (failure: JobFailure) => boolean;
  /** Called once a job is given back for a retry. */
  onRetry?: (job: T["$inferSelect"], failure: JobFailure) => Promise<void>;
}): Promise<JobOutcome> => {
  const { ctx, kind } = options;
  const t = kind.table;
  // A claim carries on the same attempt only after a clean hand-off: pending, sliced before, no error since.
  const continuing = sql`(${t.status} = 'pending' and ${t.slices} > 0 and ${t.error} is null)`;
  const taken = await takeLease(ctx.db, {
    table: t,
    id: options.id,
    waiting: "pending",
    holding: kind.holding,
    leaseSeconds: leaseSecondsOf(ctx.env),
    set: {
      attempt: sql`case when ${continuing} then ${t.attempt} else ${t.attempt} + 1 end`,
      slices: sql`${t.slices} + 1`,
      ...options.claimSet,
    },
  });
  if ("current" in taken) return notClaimed(taken.current, kind.holding, kind.noun);
  const job = taken.claimed as T["$inferSelect"] & { id: string; attempt: number; slices: number };
  const slice = createSliceBudget(ctx.env);
  const fields = { [kind.logKey]: job.id, attempt: job.attempt, slice: job.slices };
  try {
    const result = await options.work(job, slice);
    if ("done" in result) return { ok: true, status: result.done };
    const handed = await ctx.db
      // biome-ignore lint/suspicious/noExplicitAny: see takeLease
      .update(t as any)
      .set({
        ...result.next,
        status: "pending",
        error: null,
        leaseUntil: sql`now() + make_interval(secs => ${OVERDUE_SECONDS})`,
      })
      .where(heldBy(kind, job))
      .returning({ id: t.id });
    if (handed.length === 0) return { ok: true, status: "cancelled" };
    try {
      await kind.send(ctx.env, job.id);
    } catch (error) {
      // The job waits, checkpointed; the sweep queues its next slice once `lease_until` passes.
      ctx.log.warn(`${kind.noun} next slice not queued; the sweep will`, { ...fields, error });
    }
    ctx.log.info(`${kind.noun} slice done`, { ...fields, ...slice.used() });
    return { ok: true, status: "sliced" };
  } catch (error) {
    if (error instanceof LostHold) return { ok: true, status: "cancelled" };
    const failure = failureOf(error, kind.crashedCode);
    // Expected failures are logged by their code; only the unexpected ones carry their stack.
    if (failure.code === kind.crashedCode) ctx.log.error(`${kind.noun} run crashed`, { ...fields, error });
    else ctx.log.warn(`${kind.noun} run failed`, { ...fields, code: failure.code, retryable: failure.retryable });
    if (options.cleanUp) await options.cleanUp(job).catch(() => undefined);
    const retries = failure.retryable && !options.delivery.last && (options.queueRetries?.(failure) ?? true);
    if (retries) {
      const delay = backoffSeconds(options.delivery.attempts, hintedWaitOf(error));
      const released = await ctx.db
        // biome-ignore lint/suspicious/noExplicitAny: see takeLease
        .update(t as any)
        .set({
          status: "pending",
          error: failure,
          leaseUntil: sql`now() + make_interval(secs => ${delay + OVERDUE_SECONDS})`,
        })
        .where(heldBy(kind, job))
        .returning({ id: t.id });
      if (released.length > 0) await options.onRetry?.(job, failure);
      return { ok: false, error: failure.message, retryAfterSeconds: delay };
    }
    await options.fail(job, failure);
    return { ok: true, status: "failed" };
  }
};

/** The failure a dead-lettered message leaves on its job. */
export const deadLettered = (noun: string): JobFailure => ({
  code: "DEAD_LETTERED",
  message: `The ${noun} failed on every delivery and was set aside; retry it.`,
  retryable: true,
});
