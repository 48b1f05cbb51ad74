import { and, eq, or, sql } from "drizzle-orm";
import type { Database } from "../../db/client.js";
import {
  type WebhookEventType,
  type WebhookPayload,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
} from "../../db/schema/index.js";
import type { ServiceContext } from "../context.js";

/** A database or a transaction on it: an event is recorded in the same transaction as what it reports. */
export type Queryable = Database | Parameters<Parameters<Database["transaction"]>[0]>[0];

/**
 * What `webhook.deliver` carries: the delivery and the attempt to make. A wait longer than one queue delay
 * travels as several messages, each but the last saying how much longer to wait (`waitSeconds`).
 */
export type DeliverMessage = {
  v: 1;
  kind: "webhook.deliver";
  deliveryId: string;
  attempt: number;
  waitSeconds?: number;
};

/** The longest delay a Cloudflare Queues message may be given; longer waits are made of several. */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 3600;

/**
 * Records an event and one pending delivery to each of the user's enabled endpoints that subscribes to its
 * type, plus the endpoint whose URL the job named (`webhookUrl`) whether or not it subscribes, each once.
 * Call it in the transaction that records what happened, so the event exists exactly when the change does;
 * then hand the delivery ids to {@link dispatchDeliveries} after the commit.
 * @example
 * const ids = await recordEvent(tx, { userId, type: "extraction.completed", data: { job_id: job.id }, webhookUrl: job.webhookUrl });
 */
export const recordEvent = async (
  db: Queryable,
  input: { userId: string; type: WebhookEventType; data: Record<string, unknown>; webhookUrl?: string | null },
) => {
  const subscribed = sql`${webhookEndpoints.eventTypes} @> ${JSON.stringify([input.type])}::jsonb`;
  const endpoints = await db
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.userId, input.userId),
        eq(webhookEndpoints.enabled, true),
        input.webhookUrl ? or(subscribed, eq(webhookEndpoints.url, input.webhookUrl)) : subscribed,
      ),
    );
  if (endpoints.length === 0) return [];
  const payload: WebhookPayload = { type: input.type, timestamp: new Date().toISOString(), data: input.data };
  const [event] = await db
    .insert(webhookEvents)
    .values({ userId: input.userId, type: input.type, payload })
    .returning({ id: webhookEvents.id });
  if (!event) throw new Error("webhook event insert returned nothing");
  const deliveries = await db
    .insert(webhookDeliveries)
    .values(
      endpoints.map((endpoint) => ({
        userId: input.userId,
        eventId: event.id,
        endpointId: endpoint.id,
        nextAttemptAt: new Date(),
      })),
    )
    .returning({ id: webhookDeliveries.id });
  return deliveries.map((delivery) => delivery.id);
};

/**
 * Puts each delivery's next attempt on the `webhooks` queue, `delaySeconds` from now (a wait past the queue's
 * 12-hour limit travels as several messages, each carrying what is left of it). A refused send is logged and
 * left to the sweep (src/services/webhooks/sweep.ts), which finds overdue deliveries every minute.
 */
export const dispatchDeliveries = async (
  ctx: Pick<ServiceContext, "env" | "log">,
  deliveries: Array<{ id: string; attempt: number; delaySeconds?: number }>,
) => {
  if (deliveries.length === 0) return;
  try {
    await ctx.env.WEBHOOKS_QUEUE.sendBatch(
      deliveries.map((delivery) => {
        const delay = Math.max(0, Math.round(delivery.delaySeconds ?? 0));
        const leg = Math.min(delay, MAX_QUEUE_DELAY_SECONDS);
        const message: DeliverMessage = {
          v: 1,
          kind: "webhook.deliver",
          deliveryId: delivery.id,
          attempt: delivery.attempt,
          ...(delay > leg ? { waitSeconds: delay - leg } : {}),
        };
        return { body: message, ...(leg > 0 ? { delaySeconds: leg } : {}) };
      }),
    );
  } catch (error) {
    ctx.log.error("webhooks queue refused deliveries; the sweep sends them", { count: deliveries.length, error });
  }
};

/** Queues the first attempt of each new delivery (the ids {@link recordEvent} gave), now. */
export const sendFirstAttempts = (ctx: Pick<ServiceContext, "env" | "log">, deliveryIds: string[]) =>
  dispatchDeliveries(
    ctx,
    deliveryIds.map((id) => ({ id, attempt: 1 })),
  );
