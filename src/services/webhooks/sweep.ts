import { and, eq, lt, or, sql } from "drizzle-orm";
import { webhookDeliveries } from "../../db/schema/index.js";
import type { ServiceContext } from "../context.js";
import { dispatchDeliveries } from "./events.js";

/** A pending delivery this late is taken to have lost its message (the queue refused it, say). */
const OVERDUE_SECONDS = 120;

/** Deliveries put back on the queue per sweep. */
const SWEEP_LIMIT = 200;

/**
 * Finds deliveries whose queue message was lost: pending and overdue, or claimed by a run whose lease
 * lapsed (it crashed mid-way), and queues their attempt again. A message that was only late is harmless:
 * the claim lets one of the two send. Run by the cron trigger every minute.
 * @example
 * const requeued = await sweepDeliveries({ ctx });
 */
export const sweepDeliveries = async ({ ctx }: { ctx: ServiceContext }) => {
  const due = await ctx.db
    .select({ id: webhookDeliveries.id, attempts: webhookDeliveries.attempts, status: webhookDeliveries.status })
    .from(webhookDeliveries)
    .where(
      or(
        and(
          eq(webhookDeliveries.status, "pending"),
          lt(webhookDeliveries.nextAttemptAt, sql`now() - make_interval(secs => ${OVERDUE_SECONDS})`),
        ),
        and(eq(webhookDeliveries.status, "sending"), lt(webhookDeliveries.leaseUntil, sql`now()`)),
      ),
    )
    .limit(SWEEP_LIMIT);
  await dispatchDeliveries(
    ctx,
    // A lapsed `sending` claim is taken over by the same attempt number's message; a pending one is next.
    due.map((row) => ({ id: row.id, attempt: row.status === "sending" ? row.attempts : row.attempts + 1 })),
  );
  return due.length;
};
