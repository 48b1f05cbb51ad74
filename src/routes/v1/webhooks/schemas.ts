import { z } from "@hono/zod-openapi";
import { webhookDeliveryStatuses, webhookEventTypes } from "../../../db/schema/index.js";
import { NextCursorSchema, PageQuerySchema } from "../../pagination.js";

const ENDPOINT_ID = "whk_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z";
const DELIVERY_ID = "whd_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z";
const EVENT_ID = "evt_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z";
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwX1Y2Z3a4b5c=";

const EventTypeSchema = z.enum(webhookEventTypes).openapi({
  description: "An event an endpoint may subscribe to.",
  example: "extraction.completed",
});

const UrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .openapi({
    description:
      "Where events are POSTed. Checked now and at every delivery: it must resolve only to public addresses, and use https outside development. Redirects are never followed.",
    example: "https://hooks.example.com/ape",
  });

const DescriptionSchema = z
  .string()
  .trim()
  .max(500)
  .openapi({ description: "A note for the owner.", example: "Orders pipeline" });

export const EndpointParamsSchema = z.object({
  id: z.string().max(64).openapi({ description: "The endpoint's id.", example: ENDPOINT_ID }),
});

export const DeliveryParamsSchema = z.object({
  id: z.string().max(64).openapi({ description: "The delivery's id.", example: DELIVERY_ID }),
});

export const CreateEndpointBodySchema = z
  .object({
    url: UrlSchema,
    description: DescriptionSchema.optional(),
    event_types: z
      .array(EventTypeSchema)
      .min(1)
      .max(webhookEventTypes.length)
      .openapi({
        description: "The events to receive.",
        example: ["extraction.completed", "extraction.failed"],
      }),
  })
  .openapi("CreateWebhookEndpointRequest");

export const UpdateEndpointBodySchema = z
  .object({
    url: UrlSchema.optional(),
    description: DescriptionSchema.optional(),
    event_types: z
      .array(EventTypeSchema)
      .max(webhookEventTypes.length)
      .optional()
      .openapi({
        description: "The events to receive; empty: only the events of jobs that name this URL.",
        example: ["research.completed"],
      }),
    enabled: z.boolean().optional().openapi({
      description:
        "false turns the endpoint off; true turns it on again (after a 410 or five days of failures, too) and clears its failure streak.",
      example: true,
    }),
  })
  .openapi("UpdateWebhookEndpointRequest");

export const EndpointSchema = z
  .object({
    id: z.string().openapi({ description: "The endpoint's id.", example: ENDPOINT_ID }),
    url: z.string().openapi({ description: "Where events are POSTed.", example: "https://hooks.example.com/ape" }),
    description: z.string().openapi({ description: "The owner's note.", example: "Orders pipeline" }),
    event_types: z.array(z.string()).openapi({
      description: "The events it receives; empty: only those of jobs that name its URL as `webhook_url`.",
      example: ["extraction.completed"],
    }),
    origin: z.enum(["api", "job"]).openapi({
      description: "`api`: created here; `job`: registered by a job's `webhook_url`.",
      example: "api",
    }),
    enabled: z.boolean().openapi({ description: "Whether it receives events.", example: true }),
    disabled_reason: z.enum(["owner", "gone", "failing"]).nullable().openapi({
      description:
        "Why it is disabled: turned off by its owner, it answered 410 Gone, or every attempt failed for 5 days.",
      example: null,
    }),
    disabled_at: z.iso.datetime().nullable().openapi({ description: "When it was disabled.", example: null }),
    failing_since: z.iso.datetime().nullable().openapi({
      description: "When its current run of failed attempts began; null after a success.",
      example: null,
    }),
    previous_secret_expires_at: z.iso.datetime().nullable().openapi({
      description: "During a rotation, until when the previous secret signs too.",
      example: null,
    }),
    created_at: z.iso.datetime().openapi({ description: "When it was created.", example: "2026-12-01T10:00:00.000Z" }),
    updated_at: z.iso.datetime().openapi({ description: "When it last changed.", example: "2026-12-01T10:00:00.000Z" }),
  })
  .openapi("WebhookEndpoint");

const SecretSchema = z.string().openapi({
  description:
    "The signing secret (Standard Webhooks `whsec_…`), shown only this once: verify `webhook-signature` with it.",
  example: SECRET,
});

export const EndpointWithSecretSchema = EndpointSchema.extend({ secret: SecretSchema }).openapi(
  "WebhookEndpointWithSecret",
);

export const EndpointPageSchema = z
  .object({
    items: z.array(EndpointSchema).openapi({ description: "Endpoints, newest first.", example: [] }),
    next_cursor: NextCursorSchema,
  })
  .openapi("WebhookEndpointPage");

export const DeliveryQuerySchema = PageQuerySchema.extend({
  status: z.enum(webhookDeliveryStatuses).optional().openapi({
    description: "Only deliveries in this state.",
    example: "failed",
  }),
});

export const QueuedDeliverySchema = z
  .object({
    delivery_id: z.string().openapi({ description: "The delivery to follow in the log.", example: DELIVERY_ID }),
    event_id: z.string().openapi({ description: "The event's id, sent as `webhook-id`.", example: EVENT_ID }),
    status: z.literal("pending").openapi({ description: "Queued for its next attempt.", example: "pending" }),
  })
  .openapi("QueuedWebhookDelivery");

const AttemptSchema = z
  .object({
    attempt: z.number().int().openapi({ description: "Its number, from 1.", example: 1 }),
    started_at: z.iso.datetime().openapi({ description: "When it was sent.", example: "2026-12-01T10:00:00.000Z" }),
    status_code: z.number().int().nullable().openapi({
      description: "The receiver's status; null when no answer came (timeout, refused, blocked address).",
      example: 500,
    }),
    latency_ms: z.number().int().openapi({ description: "How long the receiver took.", example: 84 }),
    response_excerpt: z.string().nullable().openapi({
      description: "The first KiB of the receiver's answer.",
      example: "Internal Server Error",
    }),
    error: z
      .string()
      .nullable()
      .openapi({ description: "Why it failed; null when it succeeded.", example: "answered 500" }),
    next_retry_at: z.iso.datetime().nullable().openapi({
      description: "When the next attempt was scheduled for; null when none followed.",
      example: "2026-12-01T10:00:05.000Z",
    }),
  })
  .openapi("WebhookAttempt");

export const DeliverySchema = z
  .object({
    id: z.string().openapi({ description: "The delivery's id.", example: DELIVERY_ID }),
    event_id: z
      .string()
      .openapi({ description: "The event's id, the `webhook-id` of every attempt.", example: EVENT_ID }),
    event_type: z.string().openapi({ description: "The event's type.", example: "extraction.completed" }),
    status: z.enum(webhookDeliveryStatuses).openapi({
      description: "`pending` (waiting for its next attempt), `sending`, `succeeded`, or `failed` (given up).",
      example: "succeeded",
    }),
    attempts: z.number().int().openapi({ description: "Requests made so far.", example: 1 }),
    last_status_code: z.number().int().nullable().openapi({ description: "The last answer's status.", example: 200 }),
    last_error: z.string().nullable().openapi({ description: "Why the last attempt failed.", example: null }),
    next_attempt_at: z.iso.datetime().nullable().openapi({
      description: "When the next attempt is due, while pending.",
      example: null,
    }),
    created_at: z.iso
      .datetime()
      .openapi({ description: "When the event was queued.", example: "2026-12-01T10:00:00.000Z" }),
    completed_at: z.iso.datetime().nullable().openapi({
      description: "When it succeeded or was given up.",
      example: "2026-12-01T10:00:00.084Z",
    }),
    attempt_log: z.array(AttemptSchema).openapi({ description: "Every attempt, first first.", example: [] }),
  })
  .openapi("WebhookDelivery");

export const DeliveryPageSchema = z
  .object({
    items: z.array(DeliverySchema).openapi({ description: "Deliveries, newest first.", example: [] }),
    next_cursor: NextCursorSchema,
  })
  .openapi("WebhookDeliveryPage");

/** What a job's answer says about the endpoint its `webhook_url` is delivered to. */
export const JobWebhookSchema = z
  .object({
    endpoint_id: z.string().openapi({
      description: "The endpoint the job's events go to (see /users/me/webhooks).",
      example: ENDPOINT_ID,
    }),
    secret: z.string().nullable().openapi({
      description:
        "The endpoint's signing secret when this request registered it, shown only this once; null when the URL was registered before (its secret is unchanged).",
      example: SECRET,
    }),
  })
  .nullable()
  .openapi("JobWebhook", {
    description: "Where the job's own `webhook_url` is delivered, signed; null without one.",
    example: { endpoint_id: ENDPOINT_ID, secret: SECRET },
  });
