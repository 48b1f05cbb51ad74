import { and, inArray, isNotNull, lt, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { ServiceContext } from "../context.js";
import { DOCUMENT_JOBS, EXTRACTION_JOBS, OVERDUE_SECONDS, RESEARCH_JOBS } from "./lease.js";

/** The columns the sweep reads, which every job table has. */
type LeaseTableOf = typeof DOCUMENT_JOBS.table & { status: PgColumn; leaseUntil: PgColumn; id: PgColumn };

/** Jobs of each kind put back on their queue per sweep. */
const SWEEP_LIMIT = 100;

/**
 * Finds jobs whose queue message was lost and queues it again: a job handed on to its next slice (or given
 * back for a backoff) whose message did not come by `lease_until`, or a run whose lease lapsed (it died
 * mid-slice). A message that was only late is harmless: the claim lets one delivery run it. Run by the cron
 * trigger every minute.
 * @example
 * const requeued = await sweepJobs({ ctx });
 */
export const sweepJobs = async ({ ctx }: { ctx: ServiceContext }) => {
  let requeued = 0;
  const kinds = [DOCUMENT_JOBS, EXTRACTION_JOBS, RESEARCH_JOBS] as Array<
    Pick<typeof DOCUMENT_JOBS, "send" | "holding"> & { table: LeaseTableOf }
  >;
  for (const kind of kinds) {
    const t = kind.table;
    const overdue = and(
      sql`${t.status} in ('pending', ${kind.holding})`,
      isNotNull(t.leaseUntil),
      lt(t.leaseUntil, sql`now() - make_interval(secs => ${OVERDUE_SECONDS})`),
    );
    // A waiting job's mark moves on, so the next sweep does not queue it again while this message is on its way.
    const waiting = await ctx.db
      // biome-ignore lint/suspicious/noExplicitAny: the job tables share these columns
      .update(t as any)
      .set({ leaseUntil: sql`now() + make_interval(secs => ${OVERDUE_SECONDS})` })
      .where(
        inArray(
          t.id,
          ctx.db
            .select({ id: t.id })
            // biome-ignore lint/suspicious/noExplicitAny: as above
            .from(t as any)
            .where(and(overdue, sql`${t.status} = 'pending'`))
            .limit(SWEEP_LIMIT),
        ),
      )
      .returning({ id: t.id });
    const lapsed = await ctx.db
      .select({ id: t.id })
      // biome-ignore lint/suspicious/noExplicitAny: as above
      .from(t as any)
      .where(and(overdue, sql`${t.status} = ${kind.holding}`))
      .limit(SWEEP_LIMIT);
    for (const { id } of [...waiting, ...lapsed]) {
      await kind.send(ctx.env, id as string);
      requeued += 1;
    }
  }
  return requeued;
};
