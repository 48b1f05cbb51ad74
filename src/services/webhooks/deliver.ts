import { and, eq, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import {
  type WebhookDelivery,
  type WebhookEndpoint,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
} from "../../db/schema/index.js";
import { SafeFetchError, type SafeResponse, safeFetchFromEnv } from "../../integrations/safe-fetch.js";
import { writeAuditEntries } from "../audit/record-audit.js";
import type { ServiceContext } from "../context.js";
import { takeLease } from "../jobs/lease.js";
import { type DeliverMessage, dispatchDeliveries } from "./events.js";
import { DISABLE_AFTER_FAILING_SECONDS, nextDelaySeconds, retryAfterOf } from "./schedule.js";
import { needsResealing, openSecret, sealSecret, secretKeysOf } from "./secrets.js";

/** A receiver has this long to answer 2xx. */
export const DELIVERY_TIMEOUT_MS = 15_000;

/** How long a claimed attempt is held before another delivery of the message may take it over. */
const LEASE_SECONDS = 60;

/** The part of a receiver's answer kept in the delivery log. */
const EXCERPT_BYTES = 1024;

/** What one `webhook.deliver` message came to. */
export type DeliverOutcome =
  | { ok: true; status: "succeeded" | "retrying" | "failed" | "skipped" | "waiting" }
  | { ok: false; error: string; retryAfterSeconds: number };

/**
 * The signature header: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` for each secret that signs (the
 * current one, and during a rotation the previous one), space-separated, made by the Standard Webhooks library.
 */
export const signatureHeader = (secrets: string[], id: string, at: Date, body: string) =>
  secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(" ");

/**
 * The secrets that sign for an endpoint now. A secret still sealed under JWT_SECRET (from before
 * WEBHOOK_SECRETS_KEY was set) is sealed again under WEBHOOK_SECRETS_KEY here, so each endpoint moves over at
 * its next delivery and a later change of JWT_SECRET leaves it readable.
 */
const signingSecrets = async (ctx: ServiceContext, endpoint: WebhookEndpoint) => {
  const keys = secretKeysOf(ctx.env);
  const current = await openSecret(endpoint.secretCiphertext, keys);
  const previous =
    endpoint.previousSecretCiphertext &&
    endpoint.previousSecretExpiresAt &&
    endpoint.previousSecretExpiresAt > new Date()
      ? // The outgoing secret of a rotation only adds a signature: one that cannot be read any more is left out.
        await openSecret(endpoint.previousSecretCiphertext, keys).catch((error: unknown) => {
          ctx.log.warn("previous webhook secret unreadable", { endpointId: endpoint.id, error: String(error) });
          return null;
        })
      : null;
  if (needsResealing(endpoint.secretCiphertext, keys)) {
    await ctx.db
      .update(webhookEndpoints)
      .set({
        secretCiphertext: await sealSecret(current, keys),
        ...(previous ? { previousSecretCiphertext: await sealSecret(previous, keys) } : {}),
      })
      // Only over the value read: a rotation in between keeps its new secret.
      .where(
        and(eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.secretCiphertext, endpoint.secretCiphertext)),
      );
  }
  return previous ? [current, previous] : [current];
};

/**
 * Takes attempt `attempt` of a delivery (the jobs' one claim, src/services/jobs/lease.ts): `pending` after
 * `attempt - 1` requests, or `sending` with a lapsed lease.
 */
const claim = (ctx: ServiceContext, message: DeliverMessage) =>
  takeLease(ctx.db, {
    table: webhookDeliveries,
    id: message.deliveryId,
    waiting: "pending",
    holding: "sending",
    leaseSeconds: LEASE_SECONDS,
    waitingWhen: eq(webhookDeliveries.attempts, message.attempt - 1),
    set: { attempts: sql`${webhookDeliveries.attempts} + 1` },
  });

type Attempt = {
  statusCode: number | null;
  latencyMs: number;
  excerpt: string | null;
  error: string | null;
  retryAfter: number | null;
};

/** One POST to the receiver: never following a redirect, within the deadline, through the SSRF checks. */
const post = async (ctx: ServiceContext, url: string, headers: Record<string, string>, body: string) => {
  const started = Date.now();
  let response: SafeResponse | null = null;
  let error: string | null = null;
  if (ctx.env.ENVIRONMENT === "production" && !url.startsWith("https://")) error = "webhook URLs must use https";
  else {
    try {
      response = await safeFetchFromEnv(ctx.env).fetch(url, {
        method: "POST",
        headers,
        body,
        maxRedirects: 0,
        allowContentTypes: null,
        maxBytes: EXCERPT_BYTES,
        truncate: true,
        timeoutMs: DELIVERY_TIMEOUT_MS,
      });
    } catch (caught) {
      error =
        caught instanceof SafeFetchError
          ? caught.code === "TIMEOUT"
            ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`
            : caught.message
          : "the request failed";
    }
  }
  const latencyMs = Date.now() - started;
  if (!response) return { statusCode: null, latencyMs, excerpt: null, error, retryAfter: null } satisfies Attempt;
  const redirected = response.status >= 300 && response.status < 400;
  return {
    statusCode: response.status,
    latencyMs,
    excerpt: response.text().slice(0, EXCERPT_BYTES) || null,
    error: redirected ? `redirects are not followed (Location: ${response.headers.get("location") ?? "none"})` : null,
    retryAfter: retryAfterOf(response.status, response.headers.get("retry-after")),
  } satisfies Attempt;
};

const DISABLED_MESSAGE = "the endpoint failed every attempt for 5 days and was disabled";

/**
 * Records an attempt and what follows from it, if this run still holds the delivery: delivered; tried again
 * after the schedule's next delay (or the receiver's `Retry-After`, if longer); given up after the last
 * attempt; or, on a 410, given up with the endpoint disabled. A failure that extends the endpoint's failure
 * streak past five days disables it too. The delivery, its attempt and the endpoint's streak are written in
 * one statement (one round trip, atomic); disabling, which is rare, takes one more. Returns what to do next.
 */
const settle = async (
  ctx: ServiceContext,
  delivery: WebhookDelivery,
  endpoint: WebhookEndpoint,
  startedAt: Date,
  attempt: Attempt,
) => {
  const succeeded = attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300;
  const gone = attempt.statusCode === 410;
  const made = delivery.attempts - delivery.scheduleStart;
  const delay = succeeded || gone ? null : nextDelaySeconds(made, attempt.retryAfter);
  const nextAt = delay === null ? null : new Date(Date.now() + delay * 1000);
  const error =
    attempt.error ??
    (succeeded ? null : gone ? "the endpoint answered 410 Gone; it is disabled" : `answered ${attempt.statusCode}`);
  const status = succeeded ? "succeeded" : nextAt ? "pending" : "failed";
  const completedAt = succeeded || !nextAt ? new Date() : null;
  const result = await ctx.db.execute<{ held: number; failing_for: number | null }>(sql`
    with held as (
      update webhook_deliveries
      set status = ${status}, lease_until = null, next_attempt_at = ${nextAt}, last_status_code = ${attempt.statusCode},
          last_error = ${error}, completed_at = ${completedAt}, updated_at = now()
      where id = ${delivery.id} and attempts = ${delivery.attempts} and status = 'sending'
      returning id
    ), logged as (
      insert into webhook_attempts
        (delivery_id, attempt, started_at, status_code, latency_ms, response_excerpt, error, next_retry_at)
      select id, ${delivery.attempts}, ${startedAt}, ${attempt.statusCode}, ${attempt.latencyMs}, ${attempt.excerpt},
             ${error}, ${nextAt}
      from held
      on conflict do nothing
    ), streak as (
      update webhook_endpoints
      set failing_since = ${succeeded ? sql`null` : sql`coalesce(failing_since, now())`}
      where id = ${endpoint.id} and exists (select 1 from held)
      returning extract(epoch from now() - failing_since)::float8 as failing_for
    )
    select (select count(*) from held)::int as held, (select failing_for from streak) as failing_for`);
  const row = result.rows[0];
  if (!row?.held) return { held: false, delay: null, disabled: null } as const;
  if (succeeded) return { held: true, delay: null, disabled: null } as const;
  const failing = (row.failing_for ?? 0) >= DISABLE_AFTER_FAILING_SECONDS;
  const reason = gone ? ("gone" as const) : failing ? ("failing" as const) : null;
  if (!reason) return { held: true, delay, disabled: null } as const;
  const disabled = await ctx.db.transaction(async (tx) => {
    const [off] = await tx
      .update(webhookEndpoints)
      .set({ enabled: false, disabledReason: reason, disabledAt: new Date() })
      .where(and(eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.enabled, true)))
      .returning({ id: webhookEndpoints.id });
    if (off && !gone) {
      // The delivery that tipped the streak stops here too: the endpoint takes nothing more until re-enabled.
      await tx
        .update(webhookDeliveries)
        .set({ status: "failed", nextAttemptAt: null, completedAt: new Date(), lastError: DISABLED_MESSAGE })
        .where(eq(webhookDeliveries.id, delivery.id));
    }
    return Boolean(off);
  });
  return { held: true, delay: disabled ? null : delay, disabled: disabled ? reason : null } as const;
};

/**
 * One `webhook.deliver` message: claims the attempt (so a duplicate message sends nothing), signs the event
 * with the endpoint's secrets and a fresh timestamp, POSTs it, and settles the attempt. A message for a later
 * wait left (waits past the queue's 12-hour limit) is passed on, and a delivery held by a run that may
 * have crashed is retried once its lease lapses.
 * @example
 * await deliverWebhook({ ctx, message: { v: 1, kind: "webhook.deliver", deliveryId: "whd_…", attempt: 1 } });
 */
export const deliverWebhook = async ({
  ctx,
  message,
}: {
  ctx: ServiceContext;
  message: DeliverMessage;
}): Promise<DeliverOutcome> => {
  if (message.waitSeconds) {
    await dispatchDeliveries(ctx, [
      { id: message.deliveryId, attempt: message.attempt, delaySeconds: message.waitSeconds },
    ]);
    return { ok: true, status: "waiting" };
  }
  // The claim and the read of what to send go side by side (one round trip); what was read is used only if
  // the claim succeeded.
  const [taken, [row]] = await Promise.all([
    claim(ctx, message),
    ctx.db
      .select({ endpoint: webhookEndpoints, event: webhookEvents })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
      .where(eq(webhookDeliveries.id, message.deliveryId)),
  ]);
  if ("current" in taken) {
    const current = taken.current;
    if (current?.status === "sending" && current.leaseUntil) {
      const wait = Math.max(1, Math.ceil((current.leaseUntil.getTime() - Date.now()) / 1000));
      return { ok: false, error: "another run holds the delivery", retryAfterSeconds: wait };
    }
    return { ok: true, status: "skipped" };
  }
  const delivery = taken.claimed;
  if (!row?.endpoint.enabled) {
    await giveUp(ctx, delivery.id, "the endpoint is disabled");
    return { ok: true, status: "skipped" };
  }
  const { endpoint, event } = row;
  const body = JSON.stringify(event.payload);
  const startedAt = new Date();
  const secrets = await signingSecrets(ctx, endpoint);
  const headers = {
    "content-type": "application/json",
    "user-agent": "APE-Webhooks/1.0",
    "webhook-id": event.id,
    "webhook-timestamp": String(Math.floor(startedAt.getTime() / 1000)),
    "webhook-signature": signatureHeader(secrets, event.id, startedAt, body),
  };
  const attempt = await post(ctx, endpoint.url, headers, body);
  const settled = await settle(ctx, delivery, endpoint, startedAt, attempt);
  if (!settled.held) return { ok: true, status: "skipped" };
  if (settled.disabled) {
    ctx.log.warn("webhook endpoint disabled", { endpointId: endpoint.id, reason: settled.disabled });
    await writeAuditEntries({
      ctx,
      entries: [
        {
          action: "webhook.endpoint_disabled",
          userId: endpoint.userId,
          resourceType: "webhook_endpoint",
          resourceId: endpoint.id,
          details: { reason: settled.disabled, delivery_id: delivery.id, status_code: attempt.statusCode },
        },
      ],
    });
  }
  const ok = attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300;
  if (ok) return { ok: true, status: "succeeded" };
  if (settled.delay === null) return { ok: true, status: "failed" };
  await dispatchDeliveries(ctx, [{ id: delivery.id, attempt: delivery.attempts + 1, delaySeconds: settled.delay }]);
  return { ok: true, status: "retrying" };
};

/** Ends a delivery that is pending or being sent as `failed` with `reason`; it can be redelivered. */
const giveUp = async (ctx: ServiceContext, deliveryId: string, reason: string) => {
  await ctx.db
    .update(webhookDeliveries)
    .set({ status: "failed", leaseUntil: null, nextAttemptAt: null, completedAt: new Date(), lastError: reason })
    .where(and(eq(webhookDeliveries.id, deliveryId), sql`${webhookDeliveries.status} in ('pending', 'sending')`));
};

/** A dead-lettered delivery message (it crashed on every try): the delivery fails, and can be redelivered. */
export const failDeadLetteredDelivery = ({ ctx, deliveryId }: { ctx: ServiceContext; deliveryId: string }) =>
  giveUp(ctx, deliveryId, "the delivery crashed on every try and was set aside; redeliver it");
