import { and, asc, eq, gt, sql } from "drizzle-orm";
import { isUniqueViolation } from "../../db/errors.js";
import { researchEvents } from "../../db/schema/index.js";
import type { ServiceContext } from "../context.js";

/** The kinds of progress event a session records, in the order a run usually sends them. */
export type ResearchEventType =
  | "queued"
  | "stage"
  | "plan"
  | "sources"
  | "source_read"
  | "source_skipped"
  | "section"
  | "retrying"
  | "completed"
  | "failed"
  | "cancelled";

/**
 * Appends an event with the session's next number (1, 2, …). The number is taken in the insert itself; two
 * writers at once (a run and a cancel) may collide on it, and the loser takes the next.
 * @example
 * await appendEvent(ctx, sessionId, "stage", { stage: "searching", percent: 15 });
 */
export const appendEvent = async (
  ctx: ServiceContext,
  sessionId: string,
  type: ResearchEventType,
  data: Record<string, unknown>,
) => {
  for (let tries = 0; ; tries++) {
    try {
      await ctx.db.execute(sql`
        insert into research_events (session_id, seq, type, data)
        select ${sessionId}, coalesce(max(seq), 0) + 1, ${type}, ${JSON.stringify(data)}::jsonb
        from research_events where session_id = ${sessionId}`);
      return;
    } catch (error) {
      if (!isUniqueViolation(error) || tries >= 5) throw error;
    }
  }
};

/** A session's events after `afterSeq`, in order, at most `limit`. */
export const eventsAfter = (ctx: ServiceContext, sessionId: string, afterSeq: number, limit = 200) =>
  ctx.db
    .select({ seq: researchEvents.seq, type: researchEvents.type, data: researchEvents.data })
    .from(researchEvents)
    .where(and(eq(researchEvents.sessionId, sessionId), gt(researchEvents.seq, afterSeq)))
    .orderBy(asc(researchEvents.seq))
    .limit(limit);
