import { and, asc, desc, eq, inArray, lt, sql } from "drizzle-orm";
import {
  type WebhookDeliveryStatus,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
} from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import { isId } from "../../lib/ids.js";
import { requireUser, type ServiceContext } from "../context.js";
import { cursorPage } from "../cursor-page.js";
import { getEndpoint } from "./endpoints.js";
import { dispatchDeliveries } from "./events.js";

/**
 * An endpoint's deliveries, newest first, each with every attempt it made: when, the status code, how long
 * the receiver took, the start of its answer, the error, and when the next attempt is due.
 * @example
 * const page = await listDeliveries({ ctx, endpointId: "whk_…", input: { limit: 20 } });
 */
export const listDeliveries = async ({
  ctx,
  endpointId,
  input,
}: {
  ctx: ServiceContext;
  endpointId: string;
  input: { limit: number; cursor?: string | undefined; status?: WebhookDeliveryStatus | undefined };
}) => {
  const endpoint = await getEndpoint({ ctx, id: endpointId });
  const rows = await ctx.db
    .select({
      id: webhookDeliveries.id,
      eventId: webhookDeliveries.eventId,
      eventType: webhookEvents.type,
      status: webhookDeliveries.status,
      attempts: webhookDeliveries.attempts,
      nextAttemptAt: webhookDeliveries.nextAttemptAt,
      lastStatusCode: webhookDeliveries.lastStatusCode,
      lastError: webhookDeliveries.lastError,
      createdAt: webhookDeliveries.createdAt,
      completedAt: webhookDeliveries.completedAt,
    })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(
      and(
        eq(webhookDeliveries.endpointId, endpoint.id),
        input.cursor ? lt(webhookDeliveries.id, input.cursor) : undefined,
        input.status ? eq(webhookDeliveries.status, input.status) : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(input.limit + 1);
  const ids = rows.slice(0, input.limit).map((row) => row.id);
  const attempts =
    ids.length === 0
      ? []
      : await ctx.db
          .select()
          .from(webhookAttempts)
          .where(inArray(webhookAttempts.deliveryId, ids))
          .orderBy(asc(webhookAttempts.attempt));
  return cursorPage(rows, input.limit, (row) => ({
    id: row.id,
    event_id: row.eventId,
    event_type: row.eventType,
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.lastStatusCode,
    last_error: row.lastError,
    next_attempt_at: row.status === "pending" ? (row.nextAttemptAt?.toISOString() ?? null) : null,
    created_at: row.createdAt.toISOString(),
    completed_at: row.completedAt?.toISOString() ?? null,
    attempt_log: attempts
      .filter((attempt) => attempt.deliveryId === row.id)
      .map((attempt) => ({
        attempt: attempt.attempt,
        started_at: attempt.startedAt.toISOString(),
        status_code: attempt.statusCode,
        latency_ms: attempt.latencyMs,
        response_excerpt: attempt.responseExcerpt,
        error: attempt.error,
        next_retry_at: attempt.nextRetryAt?.toISOString() ?? null,
      })),
  }));
};

/**
 * Sends a finished delivery (delivered or given up) again: the same event, the same `webhook-id`, with the
 * retry schedule started afresh. A delivery still being attempted is a 409, as is one to a disabled endpoint.
 * @example
 * await redeliver({ ctx, id: "whd_…" }); // { delivery_id, status: "pending" }
 */
export const redeliver = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const userId = requireUser(ctx);
  const notFound = new ApiError("NOT_FOUND", `No webhook delivery ${id}.`);
  if (!isId("whd", id)) throw notFound;
  const [row] = await ctx.db
    .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.userId, userId)));
  if (!row) throw notFound;
  if (!row.endpoint.enabled) {
    throw new ApiError("WEBHOOK_DISABLED", `Endpoint ${row.endpoint.id} is disabled; enable it first.`);
  }
  const [reset] = await ctx.db
    .update(webhookDeliveries)
    .set({
      status: "pending",
      scheduleStart: sql`${webhookDeliveries.attempts}`,
      nextAttemptAt: new Date(),
      completedAt: null,
    })
    .where(and(eq(webhookDeliveries.id, id), inArray(webhookDeliveries.status, ["succeeded", "failed"])))
    .returning({ attempts: webhookDeliveries.attempts });
  if (!reset) {
    throw new ApiError("DELIVERY_IN_PROGRESS", `Delivery ${id} is still being attempted.`, {
      extensions: { status: row.delivery.status },
    });
  }
  await dispatchDeliveries(ctx, [{ id, attempt: reset.attempts + 1 }]);
  ctx.audit({ action: "webhook.redeliver", resourceType: "webhook_delivery", resourceId: id });
  return { delivery_id: id, event_id: row.delivery.eventId, status: "pending" as const };
};
