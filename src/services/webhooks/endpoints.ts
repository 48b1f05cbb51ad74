import { and, count, desc, eq, lt, sql } from "drizzle-orm";
import { isUniqueViolation } from "../../db/errors.js";
import { type WebhookEndpoint, webhookDeliveries, webhookEndpoints, webhookEvents } from "../../db/schema/index.js";
import { safeFetchFromEnv } from "../../integrations/safe-fetch.js";
import { ApiError } from "../../lib/errors.js";
import { isId } from "../../lib/ids.js";
import { requireUser, type ServiceContext } from "../context.js";
import { cursorPage } from "../cursor-page.js";
import { type Queryable, sendFirstAttempts } from "./events.js";
import { newSigningSecret, sealSecret, secretKeysOf } from "./secrets.js";

/** Endpoints one account may have. */
export const MAX_ENDPOINTS = 20;

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_SECONDS = 24 * 3600;

const limitReached = () =>
  new ApiError("WEBHOOK_LIMIT_REACHED", `An account may have ${MAX_ENDPOINTS} endpoints; delete one first.`);

/**
 * Runs `work` in a transaction that holds the account's endpoint lock (transaction-scoped, advisory). Every
 * path that adds an endpoint (the API, a job's `webhook_url`) counts and inserts inside it, so concurrent
 * creations count one after another and never pass {@link MAX_ENDPOINTS} together.
 */
const withEndpointLock = <T>(ctx: ServiceContext, userId: string, work: (tx: Queryable) => Promise<T>) =>
  ctx.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`webhook_endpoints:${userId}`}, 0))`);
    return work(tx);
  });

const assertBelowLimit = async (tx: Queryable, userId: string) => {
  const [held] = await tx.select({ n: count() }).from(webhookEndpoints).where(eq(webhookEndpoints.userId, userId));
  if ((held?.n ?? 0) >= MAX_ENDPOINTS) throw limitReached();
};

// The same answer for an id that is malformed, unknown or someone else's.
const notFound = (id: string) => new ApiError("NOT_FOUND", `No webhook endpoint ${id}.`);

/** An endpoint as the API shows it: never its secret. */
export const publicEndpoint = (endpoint: WebhookEndpoint) => {
  const overlap = endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > new Date();
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    event_types: endpoint.eventTypes,
    origin: endpoint.origin as "api" | "job",
    enabled: endpoint.enabled,
    disabled_reason: endpoint.disabledReason ?? null,
    disabled_at: endpoint.disabledAt?.toISOString() ?? null,
    failing_since: endpoint.failingSince?.toISOString() ?? null,
    previous_secret_expires_at: overlap ? (endpoint.previousSecretExpiresAt?.toISOString() ?? null) : null,
    created_at: endpoint.createdAt.toISOString(),
    updated_at: endpoint.updatedAt.toISOString(),
  };
};

/**
 * Refuses a URL APE must not call: the safe-fetch checks (http or https, no credentials, every address the
 * host resolves to public), and https outside development and tests. Run when a URL is saved; delivery runs
 * the same checks again on every attempt.
 */
export const checkEndpointUrl = async (ctx: ServiceContext, url: string, field: string) => {
  if (ctx.env.ENVIRONMENT === "production" && !url.startsWith("https://")) {
    throw new ApiError("VALIDATION_FAILED", `${field}: webhook URLs must use https.`);
  }
  try {
    return (await safeFetchFromEnv(ctx.env).check(url)).url;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError("VALIDATION_FAILED", `${field}: ${reason}`, { cause: error });
  }
};

const requireEndpoint = async (ctx: ServiceContext, id: string) => {
  const userId = requireUser(ctx);
  if (!isId("whk", id)) throw notFound(id);
  const [endpoint] = await ctx.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId)));
  if (!endpoint) throw notFound(id);
  return endpoint;
};

/**
 * Registers an endpoint and answers it with its signing secret, which is shown this once. The URL is checked
 * now (a private address is a 400), and one URL is one endpoint per account.
 * @example
 * const { secret } = await createEndpoint({ ctx, input: { url: "https://hooks.example.com/ape", event_types: ["extraction.completed"] } });
 */
export const createEndpoint = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { url: string; description?: string | undefined; event_types: string[] };
}) => {
  const userId = requireUser(ctx);
  const url = await checkEndpointUrl(ctx, input.url, "body.url");
  const secret = newSigningSecret();
  const secretCiphertext = await sealSecret(secret, secretKeysOf(ctx.env));
  try {
    const endpoint = await withEndpointLock(ctx, userId, async (tx) => {
      await assertBelowLimit(tx, userId);
      const [inserted] = await tx
        .insert(webhookEndpoints)
        .values({
          userId,
          url,
          description: input.description ?? "",
          eventTypes: [...new Set(input.event_types)],
          secretCiphertext,
        })
        .returning();
      return inserted;
    });
    if (!endpoint) throw new Error("endpoint insert returned nothing");
    ctx.audit({ action: "webhook.create", resourceType: "webhook_endpoint", resourceId: endpoint.id });
    return { ...publicEndpoint(endpoint), secret };
  } catch (error) {
    if (isUniqueViolation(error)) throw new ApiError("WEBHOOK_EXISTS", `An endpoint for ${url} exists already.`);
    throw error;
  }
};

/**
 * The endpoint a job's `webhook_url` is delivered to: the account's endpoint for that URL, or a new one
 * (origin `job`, subscribed to nothing else) whose secret is returned this once, for the job's answer.
 */
export const ensureJobEndpoint = async (ctx: ServiceContext, input: { url: string; field: string }) => {
  const userId = requireUser(ctx);
  const url = await checkEndpointUrl(ctx, input.url, input.field);
  const existing = async (db: Queryable) =>
    (
      await db
        .select()
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.userId, userId), eq(webhookEndpoints.url, url)))
    )[0];
  const found = await existing(ctx.db);
  if (found) return { endpoint: found, url, secret: null };
  const secret = newSigningSecret();
  const secretCiphertext = await sealSecret(secret, secretKeysOf(ctx.env));
  return withEndpointLock(ctx, userId, async (tx) => {
    // Another request may have made it while this one waited for the lock.
    const raced = await existing(tx);
    if (raced) return { endpoint: raced, url, secret: null };
    await assertBelowLimit(tx, userId);
    const [created] = await tx
      .insert(webhookEndpoints)
      .values({ userId, url, origin: "job", description: "Registered by a job's webhook_url", secretCiphertext })
      .returning();
    if (!created) throw new Error("job endpoint insert returned nothing");
    return { endpoint: created, url, secret };
  });
};

/** The caller's endpoints, newest first. */
export const listEndpoints = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { limit: number; cursor?: string | undefined };
}) => {
  const userId = requireUser(ctx);
  const rows = await ctx.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.userId, userId), input.cursor ? lt(webhookEndpoints.id, input.cursor) : undefined))
    .orderBy(desc(webhookEndpoints.id))
    .limit(input.limit + 1);
  return cursorPage(rows, input.limit, publicEndpoint);
};

/** One of the caller's endpoints. */
export const getEndpoint = async ({ ctx, id }: { ctx: ServiceContext; id: string }) =>
  publicEndpoint(await requireEndpoint(ctx, id));

/**
 * Changes an endpoint's URL (checked again), description, event types, or `enabled`. Enabling a disabled
 * endpoint clears why it was disabled and its failure streak; events from while it was off are not sent.
 */
export const updateEndpoint = async ({
  ctx,
  id,
  input,
}: {
  ctx: ServiceContext;
  id: string;
  input: {
    url?: string | undefined;
    description?: string | undefined;
    event_types?: string[] | undefined;
    enabled?: boolean | undefined;
  };
}) => {
  const endpoint = await requireEndpoint(ctx, id);
  const url = input.url === undefined ? undefined : await checkEndpointUrl(ctx, input.url, "body.url");
  const enabling = input.enabled === true && !endpoint.enabled;
  const disabling = input.enabled === false && endpoint.enabled;
  try {
    const [updated] = await ctx.db
      .update(webhookEndpoints)
      .set({
        ...(url === undefined ? {} : { url }),
        ...(input.description === undefined ? {} : { description: input.description }),
        ...(input.event_types === undefined ? {} : { eventTypes: [...new Set(input.event_types)] }),
        ...(enabling ? { enabled: true, disabledReason: null, disabledAt: null, failingSince: null } : {}),
        ...(disabling ? { enabled: false, disabledReason: "owner" as const, disabledAt: new Date() } : {}),
      })
      .where(eq(webhookEndpoints.id, endpoint.id))
      .returning();
    if (!updated) throw notFound(id);
    ctx.audit({ action: "webhook.update", resourceType: "webhook_endpoint", resourceId: endpoint.id });
    return publicEndpoint(updated);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ApiError("WEBHOOK_EXISTS", `An endpoint for ${url} exists already.`);
    throw error;
  }
};

/** Deletes an endpoint with its deliveries; events on their way to it are not sent. */
export const deleteEndpoint = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const endpoint = await requireEndpoint(ctx, id);
  await ctx.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
  ctx.audit({ action: "webhook.delete", resourceType: "webhook_endpoint", resourceId: endpoint.id });
};

/**
 * Gives an endpoint a new secret, shown this once. For {@link ROTATION_OVERLAP_SECONDS} the old one signs
 * too (two signatures in `webhook-signature`), so receivers can switch without missing an event. Rotating
 * again during an overlap ends the older one's.
 */
export const rotateSecret = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const endpoint = await requireEndpoint(ctx, id);
  const secret = newSigningSecret();
  const expires = new Date(Date.now() + ROTATION_OVERLAP_SECONDS * 1000);
  const [updated] = await ctx.db
    .update(webhookEndpoints)
    .set({
      secretCiphertext: await sealSecret(secret, secretKeysOf(ctx.env)),
      previousSecretCiphertext: endpoint.secretCiphertext,
      previousSecretExpiresAt: expires,
    })
    .where(eq(webhookEndpoints.id, endpoint.id))
    .returning();
  if (!updated) throw notFound(id);
  ctx.audit({ action: "webhook.rotate_secret", resourceType: "webhook_endpoint", resourceId: endpoint.id });
  return { ...publicEndpoint(updated), secret };
};

/**
 * Sends a `webhook.test` event to this endpoint alone, through the same queue, signing and retries as every
 * event; answers the delivery to watch in the log.
 */
export const sendTestEvent = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const endpoint = await requireEndpoint(ctx, id);
  if (!endpoint.enabled) {
    throw new ApiError("WEBHOOK_DISABLED", `Endpoint ${id} is disabled (${endpoint.disabledReason}); enable it first.`);
  }
  const delivery = await ctx.db.transaction(async (tx) => {
    const [event] = await tx
      .insert(webhookEvents)
      .values({
        userId: endpoint.userId,
        type: "webhook.test",
        payload: {
          type: "webhook.test",
          timestamp: new Date().toISOString(),
          data: { endpoint_id: endpoint.id, message: "A test event from APE." },
        },
      })
      .returning({ id: webhookEvents.id });
    if (!event) throw new Error("test event insert returned nothing");
    const [created] = await tx
      .insert(webhookDeliveries)
      .values({ userId: endpoint.userId, eventId: event.id, endpointId: endpoint.id, nextAttemptAt: new Date() })
      .returning({ id: webhookDeliveries.id, eventId: webhookDeliveries.eventId });
    if (!created) throw new Error("test delivery insert returned nothing");
    return created;
  });
  await sendFirstAttempts(ctx, [delivery.id]);
  ctx.audit({ action: "webhook.test", resourceType: "webhook_endpoint", resourceId: endpoint.id });
  return { delivery_id: delivery.id, event_id: delivery.eventId, status: "pending" as const };
};
