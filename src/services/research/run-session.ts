import { and, eq, type SQL, sql } from "drizzle-orm";
import { type ResearchFailure, researchSessions } from "../../db/schema/index.js";
import type { ServiceContext } from "../context.js";
import { deadLettered, RESEARCH_JOBS, runLeased, type SliceResult } from "../jobs/lease.js";
import type { JobOutcome } from "../jobs/outcome.js";
import { recordEvent, sendFirstAttempts } from "../webhooks/events.js";
import { researchEventData } from "../webhooks/payloads.js";
import { appendEvent } from "./events.js";
import { createRunContext, endSliceIfOver, type RunContext, SliceEnd } from "./run-context.js";
import { finishStep } from "./steps/finish.js";
import { planStep } from "./steps/plan.js";
import { rankStep } from "./steps/rank.js";
import { readStep } from "./steps/read.js";
import { searchStep } from "./steps/search.js";
import { writeStep } from "./steps/write.js";

export { sessionPrefix } from "./run-context.js";

/** The pipeline: each step skips what the state says is done, and the slice ends between units of work. */
const pipeline = async (run: RunContext) => {
  const questions = await planStep(run);
  if (!run.stopIfOver("after planning")) {
    endSliceIfOver(run);
    const candidates = await searchStep(run, questions);
    endSliceIfOver(run);
    if (!(await readStep(run, candidates))) throw new SliceEnd();
  }
  endSliceIfOver(run);
  const ranked = await rankStep(run, questions);
  endSliceIfOver(run);
  const written = await writeStep(run, ranked);
  if (!written.done) throw new SliceEnd();
  endSliceIfOver(run);
  await finishStep(run, questions, written.sections);
};

/**
 * One delivery of `research.run`, a slice of the session: plan, search, read, rank, write (steps/*.ts), each
 * step's output checkpointed in the session's `state` under the slice's hold, so a next slice, a redelivered
 * or retried run goes on after the last finished step (and, within reading and writing, after the last
 * finished source or section). A slice that has spent `JOB_SLICE_SECONDS` or `JOB_SLICE_SUBREQUESTS` ends
 * between units of work and the next carries on. Budgets are checked before every model call and between
 * steps; one that runs out ends the session with what it has, saying so. Idempotent: a duplicate delivery
 * finds the session taken or done.
 * @example
 * const outcome = await runResearchSession({ ctx, sessionId: "res_…", delivery: { attempts: 1, last: false } });
 */
export const runResearchSession = ({
  ctx,
  sessionId,
  delivery,
}: {
  ctx: ServiceContext;
  sessionId: string;
  delivery: { attempts: number; last: boolean };
}): Promise<JobOutcome> => {
  let run: RunContext | null = null;
  return runLeased({
    ctx,
    kind: RESEARCH_JOBS,
    id: sessionId,
    delivery,
    claimSet: { startedAt: sql`coalesce(${researchSessions.startedAt}, now())` },
    work: async (session, slice): Promise<SliceResult> => {
      // The run acts for the session's owner: its model calls count against their budget and usage.
      ctx.caller = { kind: "job", userId: session.userId, jobId: session.id };
      run = createRunContext(ctx, session, slice);
      try {
        await pipeline(run);
        return { done: "completed" };
      } catch (error) {
        if (!(error instanceof SliceEnd)) throw error;
        return { next: { state: run.state, usage: run.usage, progress: run.progress } };
      }
    },
    // What the run has so far (usage above all) is written before it fails or waits.
    cleanUp: async () => {
      await run?.save();
    },
    onRetry: async (session, failure) => {
      await appendEvent(ctx, session.id, "retrying", { error: failure });
    },
    fail: async (session, failure) => {
      const failed = await failSession(
        ctx,
        and(
          eq(researchSessions.id, session.id),
          eq(researchSessions.attempt, session.attempt),
          eq(researchSessions.slices, session.slices),
          eq(researchSessions.status, "running"),
        ),
        failure,
      );
      if (failed) await appendEvent(ctx, session.id, "failed", { error: failure });
    },
  });
};

/** A dead-lettered run: the session fails with that reason, unless it finished or was cancelled meanwhile. */
export const failDeadLetteredSession = async ({ ctx, sessionId }: { ctx: ServiceContext; sessionId: string }) => {
  const failure = deadLettered("session");
  const failed = await failSession(
    ctx,
    and(eq(researchSessions.id, sessionId), sql`${researchSessions.status} in ('pending', 'running')`),
    failure,
  );
  if (failed) await appendEvent(ctx, sessionId, "failed", { error: failure });
};

/**
 * Fails the session `where` selects, recording `research.failed` for the owner's endpoints (and the session's
 * own `webhook_url`) in the same transaction; says whether a session was failed.
 */
const failSession = async (ctx: ServiceContext, where: SQL | undefined, failure: ResearchFailure) => {
  const deliveries = await ctx.db.transaction(async (tx) => {
    const [failed] = await tx
      .update(researchSessions)
      .set({ status: "failed", error: failure, leaseUntil: null, completedAt: new Date() })
      .where(where)
      .returning();
    if (!failed) return null;
    return recordEvent(tx, {
      userId: failed.userId,
      type: "research.failed",
      webhookUrl: failed.webhookUrl,
      data: researchEventData({ ...failed, status: "failed" }),
    });
  });
  if (!deliveries) return false;
  await sendFirstAttempts(ctx, deliveries);
  return true;
};
