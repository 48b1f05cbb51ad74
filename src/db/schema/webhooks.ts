import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, text, uniqueIndex, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, oneOf, timestamptz, updatedAt } from "./columns.js";
import { users } from "./users.js";

/** The events an endpoint may subscribe to. `webhook.test` is sent only on request, to one endpoint. */
export const webhookEventTypes = [
  "extraction.completed",
  "extraction.failed",
  "research.completed",
  "research.failed",
  "document.ready",
  "document.failed",
] as const;

/** One of `webhookEventTypes`, or the test event. */
export type WebhookEventType = (typeof webhookEventTypes)[number] | "webhook.test";

/** Why an endpoint no longer receives events: its owner turned it off, it answered 410, or it failed for days. */
export const webhookDisabledReasons = ["owner", "gone", "failing"] as const;

/** One of `webhookDisabledReasons`. */
export type WebhookDisabledReason = (typeof webhookDisabledReasons)[number];

/** Where a delivery is: waiting for its next attempt, being sent, delivered, or given up. */
export const webhookDeliveryStatuses = ["pending", "sending", "succeeded", "failed"] as const;

/** One of `webhookDeliveryStatuses`. */
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];

/**
 * A user's webhook endpoints. The signing secret is kept encrypted (AES-GCM, see
 * src/services/webhooks/secrets.ts), since APE must sign with it; during a rotation the previous one signs
 * too until `previous_secret_expires_at`. `event_types` empty: the endpoint receives only the events of jobs
 * that name its URL as their `webhook_url` (`origin` `job`: it was registered by such a job).
 */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: idColumn("whk"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    description: text("description").notNull().default(""),
    eventTypes: jsonb("event_types").$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    origin: varchar("origin", { length: 10 }).notNull().default("api"),
    secretCiphertext: text("secret_ciphertext").notNull(),
    previousSecretCiphertext: text("previous_secret_ciphertext"),
    previousSecretExpiresAt: timestamptz("previous_secret_expires_at"),
    enabled: boolean("enabled").notNull().default(true),
    disabledReason: varchar("disabled_reason", { length: 20, enum: webhookDisabledReasons }),
    disabledAt: timestamptz("disabled_at"),
    /** When the current run of failed attempts began; null after a success. */
    failingSince: timestamptz("failing_since"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("idx_webhook_endpoints_user_url").on(t.userId, t.url),
    oneOf("webhook_endpoints_origin_check", t.origin, ["api", "job"]),
    oneOf("webhook_endpoints_disabled_reason_check", t.disabledReason, webhookDisabledReasons),
  ],
);

/** A row of `webhook_endpoints` as read. */
export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;

/** What an event carries: the Standard Webhooks payload, `{ type, timestamp, data }`, exactly as signed. */
export type WebhookPayload = { type: WebhookEventType; timestamp: string; data: Record<string, unknown> };

/** Events, one per thing that happened; the id is the `webhook-id` every attempt of every delivery carries. */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    id: idColumn("evt"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: varchar("type", { length: 40 }).notNull(),
    payload: jsonb("payload").$type<WebhookPayload>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("idx_webhook_events_user").on(t.userId, t.createdAt)],
);

/** A row of `webhook_events` as read. */
export type WebhookEvent = typeof webhookEvents.$inferSelect;

/**
 * One event to one endpoint. `attempts` counts requests made; `schedule_start` is the attempt count a
 * redelivery started from, so the retry schedule begins again. A claim moves `pending` to `sending` with a
 * lease, so one request is made per attempt however often the queue delivers the message.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: idColumn("whd"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    eventId: text("event_id")
      .notNull()
      .references(() => webhookEvents.id, { onDelete: "cascade" }),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    status: varchar("status", { length: 20, enum: webhookDeliveryStatuses }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    scheduleStart: integer("schedule_start").notNull().default(0),
    nextAttemptAt: timestamptz("next_attempt_at"),
    leaseUntil: timestamptz("lease_until"),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    completedAt: timestamptz("completed_at"),
  },
  (t) => [
    uniqueIndex("idx_webhook_deliveries_event_endpoint").on(t.eventId, t.endpointId),
    index("idx_webhook_deliveries_endpoint").on(t.endpointId, t.id),
    index("idx_webhook_deliveries_due").on(t.status, t.nextAttemptAt),
    oneOf("webhook_deliveries_status_check", t.status, webhookDeliveryStatuses),
  ],
);

/** A row of `webhook_deliveries` as read. */
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;

/** Each request a delivery made: what came back, how long it took, and when the next one is due. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    startedAt: timestamptz("started_at").notNull(),
    statusCode: integer("status_code"),
    latencyMs: integer("latency_ms").notNull(),
    responseExcerpt: text("response_excerpt"),
    error: text("error"),
    nextRetryAt: timestamptz("next_retry_at"),
  },
  (t) => [uniqueIndex("idx_webhook_attempts_delivery_attempt").on(t.deliveryId, t.attempt)],
);

/** A row of `webhook_attempts` as read. */
export type WebhookAttempt = typeof webhookAttempts.$inferSelect;
