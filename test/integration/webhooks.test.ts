import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { webhookEndpoints } from "../../src/db/schema/index.js";
import { handleQueueBatch } from "../../workers/jobs/consumer.js";
import { runScheduled } from "../../workers/scheduled.js";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";
import { productionEnv } from "../helpers/production-env.js";

// Webhooks as a receiving system sees them: a local receiver (fake-sites' /hook, scripted per test) whose
// logged requests are verified with the official `standardwebhooks` library, APE's real queue handler (time
// simulated: a retry's delay is recorded, not slept), Postgres, and the safe fetch with the receiver's port
// allow-listed.

type Received = { method: string; path: string; headers: Record<string, string>; body: string; at: number };
type Endpoint = { id: string; url: string; secret: string; enabled: boolean; disabled_reason: string | null };
type Attempt = { attempt: number; status_code: number | null; error: string | null; next_retry_at: string | null };
type Delivery = {
  id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_error: string | null;
  attempt_log: Attempt[];
};

const sites = inject("fakeSitesUrl");
let h: Harness;
let token: string;

beforeAll(async () => {
  h = await createHarness({
    ...llmFakes().env(),
    FETCH_ALLOW_HOSTS: new URL(sites).host,
    RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
    RATE_LIMIT_ACCOUNT_PER_MINUTE: "1000000",
  });
  token = (await h.signUp()).tokens.access_token;
});

/** A receiver of its own: a fresh scope of the fake sites, its /hook path, and its log and script. */
const receiver = () => {
  const scope = `${sites}/s/${crypto.randomUUID()}`;
  return {
    scope,
    url: `${scope}/hook/ape`,
    script: async (answer: { status?: number; headers?: Record<string, string>; body?: string; times?: number }) => {
      const res = await fetch(`${scope}/__fake/next`, { method: "POST", body: JSON.stringify(answer) });
      expect(res.status).toBe(204);
    },
    received: async (path = "/hook/ape") =>
      ((await (await fetch(`${scope}/__fake/requests`)).json()) as Received[]).filter((r) => r.path === path),
  };
};

const call = (path: string, init: RequestInit = {}) =>
  h.request(`/api/v1/users/me/webhooks${path}`, {
    ...init,
    headers: { ...h.bearer(token), ...(init.headers as Record<string, string>) },
  });

const createEndpoint = async (url: string, eventTypes: string[] = ["extraction.completed"]) => {
  const res = await h.request(
    "/api/v1/users/me/webhooks",
    h.json("POST", { url, event_types: eventTypes, description: "test receiver" }, h.bearer(token)),
  );
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Endpoint;
};

const deliveries = async (endpointId: string) =>
  ((await (await call(`/${endpointId}/deliveries`)).json()) as { items: Delivery[] }).items;

const sendTest = async (endpointId: string) => {
  const res = await call(`/${endpointId}/test`, { method: "POST" });
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as { delivery_id: string; event_id: string };
};

/**
 * The delay the app asked for before each attempt of one delivery, in order (a wait past the queue's 12-hour
 * limit is passed on as more messages of the same attempt: the first one counts).
 */
const webhookDelays = (deliveryId: string) => {
  const byAttempt = new Map<number, number>();
  for (const message of h.queues.sent()) {
    const body = message.body as { deliveryId?: string; attempt: number; waitSeconds?: number };
    if (body.deliveryId !== deliveryId || byAttempt.has(body.attempt)) continue;
    byAttempt.set(body.attempt, (message.delaySeconds ?? 0) + (body.waitSeconds ?? 0));
  }
  return [...byAttempt.values()];
};

/** Verifies a received request as a receiver would, with the official library; returns the payload. */
const verified = (secret: string, request: Received) =>
  new Webhook(secret).verify(request.body, request.headers) as {
    type: string;
    timestamp: string;
    data: Record<string, unknown>;
  };

describe("webhook endpoints", () => {
  it("shows the secret once, never again, and refuses private addresses and duplicates at save", async () => {
    const hook = receiver();
    const created = await createEndpoint(hook.url);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const listed = (await (await call("")).json()) as { items: Array<Record<string, unknown>> };
    expect(listed.items.find((item) => item.id === created.id)).toMatchObject({ url: hook.url, enabled: true });
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(JSON.stringify(await (await call(`/${created.id}`)).json())).not.toContain(created.secret);

    for (const url of ["http://10.0.0.7/hook", "http://169.254.169.254/latest", "http://localhost:9/x"]) {
      const refused = await h.request(
        "/api/v1/users/me/webhooks",
        h.json("POST", { url, event_types: ["document.ready"] }, h.bearer(token)),
      );
      expect(refused.status, url).toBe(400);
      const problem = (await readProblem(refused)).body;
      expect(problem).toMatchObject({ code: "VALIDATION_FAILED" });
      expect(problem.detail).toContain("body.url");
    }
    const again = await h.request(
      "/api/v1/users/me/webhooks",
      h.json("POST", { url: hook.url, event_types: ["document.ready"] }, h.bearer(token)),
    );
    expect(again.status).toBe(409);
    expect((await readProblem(again)).body).toMatchObject({ code: "WEBHOOK_EXISTS" });
    const unknownType = await h.request(
      "/api/v1/users/me/webhooks",
      h.json("POST", { url: `${hook.url}/other`, event_types: ["payment.succeeded"] }, h.bearer(token)),
    );
    expect(unknownType.status).toBe(400);
  });

  it("keeps an account to 20 endpoints, and asks for https in production", async () => {
    const owner = await h.signUp();
    const add = (url: string, env: Record<string, unknown> = {}) =>
      h.request(
        "/api/v1/users/me/webhooks",
        h.json("POST", { url, event_types: ["document.ready"] }, h.bearer(owner.tokens.access_token)),
        env,
      );
    const scope = receiver().scope;
    for (let i = 0; i < 20; i++) expect((await add(`${scope}/hook/${i}`)).status).toBe(201);
    const over = await add(`${scope}/hook/20`);
    expect(over.status).toBe(409);
    expect((await readProblem(over)).body).toMatchObject({ code: "WEBHOOK_LIMIT_REACHED" });

    const plain = await h.request(
      "/api/v1/users/me/webhooks",
      h.json("POST", { url: `${scope}/hook/plain`, event_types: ["document.ready"] }, h.bearer(token)),
      productionEnv(inject("fakeSesUrl")),
    );
    expect(plain.status).toBe(400);
    const problem = (await readProblem(plain)).body;
    expect(problem).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(problem.detail).toContain("https");
  });

  it("checks the URL again at delivery: a name that now resolves to a private address gets nothing", async () => {
    const dns = new URL(String(h.env.FETCH_DNS_RESOLVER_URL)).pathname.replace(/\/dns-query$/, "");
    const resolver = `${new URL(String(h.env.FETCH_DNS_RESOLVER_URL)).origin}${dns}`;
    const name = `hooks-${crypto.randomUUID().slice(0, 8)}.example.com`;
    const add = (data: string) =>
      fetch(`${resolver}/__fake/records`, { method: "POST", body: JSON.stringify({ name, type: "A", data }) });
    await fetch(`${resolver}/__fake/reset`, { method: "POST" });
    expect((await add("93.184.215.14")).status).toBe(204);
    const endpoint = await createEndpoint(`http://${name}/hook`);
    await fetch(`${resolver}/__fake/reset`, { method: "POST" });
    expect((await add("10.1.2.3")).status).toBe(204);
    await sendTest(endpoint.id);
    await h.runJobs({ maxRounds: 1 });
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery?.status).toBe("pending");
    expect(delivery?.attempt_log[0]).toMatchObject({ attempt: 1, status_code: null });
    expect(delivery?.attempt_log[0]?.error).toContain("private address");
    // Off, so its retries do not run on through the other tests' queue runs.
    await call(`/${endpoint.id}`, h.json("PATCH", { enabled: false }));
  });
});

describe("webhook delivery", () => {
  it("delivers a finished extraction job's event, verified by the standardwebhooks library", async () => {
    const hook = receiver();
    const endpoint = await createEndpoint(hook.url, ["extraction.completed", "extraction.failed"]);
    await fetch(`${hook.scope}/__fake/pages`, {
      method: "POST",
      body: JSON.stringify({
        "/prices": "<table><tr><th>Product</th><th>Price</th></tr><tr><td>Tea</td><td>$4.50</td></tr></table>",
      }),
    });
    const own = receiver();
    const started = await h.request(
      "/api/v1/extraction/jobs",
      h.json(
        "POST",
        {
          source_type: "web_single",
          source_url: `${hook.scope}/prices`,
          schema: {
            columns: [
              { name: "product", type: "string", required: true },
              { name: "price", type: "currency", required: true },
            ],
          },
          webhook_url: own.url,
        },
        h.bearer(token),
      ),
    );
    expect(started.status, await started.clone().text()).toBe(202);
    const job = (await started.json()) as { id: string; webhook: { endpoint_id: string; secret: string } };
    // The job's own URL became an endpoint of the account, its secret shown in this answer only.
    expect(job.webhook.secret).toMatch(/^whsec_/);
    await h.runJobs();

    const [request] = await hook.received();
    expect(request?.method).toBe("POST");
    expect(request?.headers["content-type"]).toBe("application/json");
    const event = verified(endpoint.secret, request as Received);
    expect(event).toMatchObject({
      type: "extraction.completed",
      data: {
        job_id: job.id,
        status: "completed",
        rows_extracted: 1,
        rows_valid: 1,
        links: { self: `/api/v1/extraction/jobs/${job.id}` },
      },
    });
    expect(request?.headers["webhook-id"]).toMatch(/^evt_/);
    // The job's own webhook_url got the same event, signed with its own secret (and not with the other's).
    const [ownRequest] = await own.received();
    expect(verified(job.webhook.secret, ownRequest as Received)).toMatchObject({
      type: "extraction.completed",
      data: { job_id: job.id },
    });
    expect(() => verified(endpoint.secret, ownRequest as Received)).toThrow();
    expect(ownRequest?.headers["webhook-id"]).toBe(request?.headers["webhook-id"]);
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 1, event_type: "extraction.completed" });
    expect(delivery?.attempt_log).toEqual([
      expect.objectContaining({ attempt: 1, status_code: 200, response_excerpt: "ok", error: null }),
    ]);
  });

  it("delivers document.ready for an uploaded document", async () => {
    const hook = receiver();
    const endpoint = await createEndpoint(hook.url, ["document.ready"]);
    const form = new FormData();
    form.set("file", new File(["Notes for the webhook test."], "notes.txt", { type: "text/plain" }));
    const uploaded = await h.request("/api/v1/documents", { method: "POST", headers: h.bearer(token), body: form });
    const doc = (await uploaded.json()) as { id: string };
    await h.runJobs();
    const [request] = await hook.received();
    expect(verified(endpoint.secret, request as Received)).toMatchObject({
      type: "document.ready",
      data: { document_id: doc.id, status: "ready", filename: "notes.txt", pages: 1 },
    });
  });

  it("tries a failing receiver again with growing delays and the same webhook-id until it answers 2xx", async () => {
    const hook = receiver();
    const endpoint = await createEndpoint(hook.url);
    await hook.script({ status: 500, body: "Internal Server Error", times: 3 });
    const queued = await sendTest(endpoint.id);
    await h.runJobs();

    const received = await hook.received();
    expect(received).toHaveLength(4);
    expect(new Set(received.map((r) => r.headers["webhook-id"]))).toEqual(new Set([queued.event_id]));
    for (const request of received) expect(verified(endpoint.secret, request)).toMatchObject({ type: "webhook.test" });
    // The first attempt at once, then 5 s, 5 min and 30 min, each with up to 10% jitter.
    const delays = webhookDelays(queued.delivery_id);
    expect(delays).toHaveLength(4);
    expect(delays[0]).toBe(0);
    for (const [index, base] of [5, 300, 1800].entries()) {
      expect(delays[index + 1]).toBeGreaterThanOrEqual(base);
      expect(delays[index + 1]).toBeLessThanOrEqual(Math.round(base * 1.1));
    }
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ id: queued.delivery_id, status: "succeeded", attempts: 4 });
    expect(delivery?.attempt_log.map((a) => a.status_code)).toEqual([500, 500, 500, 200]);
    expect(delivery?.attempt_log[0]).toMatchObject({ error: "answered 500" });
    expect(delivery?.attempt_log[0]?.next_retry_at).not.toBeNull();
    expect(delivery?.attempt_log[3]?.next_retry_at).toBeNull();
  });

  it("treats a redirect as a failure and never follows it", async () => {
    const hook = receiver();
    const endpoint = await createEndpoint(hook.url);
    await hook.script({ status: 302, headers: { location: `${hook.scope}/hook/target` } });
    await sendTest(endpoint.id);
    await h.runJobs();
    expect(await hook.received("/hook/target")).toEqual([]);
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery?.attempt_log[0]).toMatchObject({ status_code: 302 });
    expect(delivery?.attempt_log[0]?.error).toContain("redirects are not followed");
    // The next attempt, to the endpoint's own URL again, succeeded.
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("honours Retry-After on a 429, and gives up after the tenth attempt, for the owner to see", async () => {
    const hook = receiver();
    const endpoint = await createEndpoint(hook.url);
    await hook.script({ status: 429, headers: { "retry-after": "3600" } });
    await hook.script({ status: 503, times: 9 });
    const queued = await sendTest(endpoint.id);
    await h.runJobs();
    const delays = webhookDelays(queued.delivery_id);
    // An hour, as the receiver asked, instead of the schedule's 5 s; then the schedule, out to a day.
    expect(delays[1]).toBeGreaterThanOrEqual(3600);
    expect(delays).toHaveLength(10);
    expect(delays[9]).toBeGreaterThanOrEqual(86400);
    expect(delays[9]).toBeLessThanOrEqual(86400 * 1.1);
    // Waits past the queue's 12-hour limit went as more than one message, none asking for more than 12 hours.
    const legs = h.queues.sent().filter((m) => (m.body as { deliveryId?: string }).deliveryId === queued.delivery_id);
    expect(legs.length).toBeGreaterThan(10);
    expect(Math.max(...legs.map((m) => m.delaySeconds ?? 0))).toBeLessThanOrEqual(43200);
    expect(await hook.received()).toHaveLength(10);
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempts: 10, last_error: "answered 503" });
    expect(delivery?.attempt_log).toHaveLength(10);
  });

  it("disables an endpoint that answers 410 Gone, and records it in the audit log", async () => {
    const hook = receiver();
    const endpoint = await createEndpoint(hook.url);
    await hook.script({ status: 410 });
    await sendTest(endpoint.id);
    await h.runJobs();
    expect(await hook.received()).toHaveLength(1);
    const after = (await (await call(`/${endpoint.id}`)).json()) as Endpoint;
    expect(after).toMatchObject({ enabled: false, disabled_reason: "gone" });
    const audit = (await (
      await h.request("/api/v1/users/me/audit?action=webhook.endpoint_disabled", { headers: h.bearer(token) })
    ).json()) as { items: Array<{ resource_id: string; details: Record<string, unknown> }> };
    expect(audit.items).toContainEqual(
      expect.objectContaining({ resource_id: endpoint.id, details: expect.objectContaining({ reason: "gone" }) }),
    );
    // A test event to a disabled endpoint is refused; enabling it again lets events through.
    expect((await call(`/${endpoint.id}/test`, { method: "POST" })).status).toBe(409);
    const enabled = await call(`/${endpoint.id}`, h.json("PATCH", { enabled: true }));
    expect(await enabled.json()).toMatchObject({ enabled: true, disabled_reason: null });
    await sendTest(endpoint.id);
    await h.runJobs();
    expect(await hook.received()).toHaveLength(2);
  });

  it("disables an endpoint whose attempts have all failed for five days", async () => {
    const hook = receiver();
    const endpoint = await createEndpoint(hook.url);
    await hook.script({ status: 500, times: 2 });
    await sendTest(endpoint.id);
    await h.runJobs({ maxRounds: 1 });
    const failing = (await (await call(`/${endpoint.id}`)).json()) as { failing_since: string | null };
    expect(failing.failing_since).not.toBeNull();
    // Five days and more pass with every attempt failing (simulated: the streak's start moves back).
    await h.withDb((db) =>
      db.execute(
        `update webhook_endpoints set failing_since = now() - interval '5 days 1 hour' where id = '${endpoint.id}'`,
      ),
    );
    await h.runJobs();
    const after = (await (await call(`/${endpoint.id}`)).json()) as Endpoint;
    expect(after).toMatchObject({ enabled: false, disabled_reason: "failing" });
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempts: 2 });
    const audit = (await (
      await h.request("/api/v1/users/me/audit?action=webhook.endpoint_disabled", { headers: h.bearer(token) })
    ).json()) as { items: Array<{ resource_id: string; details: Record<string, unknown> }> };
    expect(audit.items).toContainEqual(
      expect.objectContaining({ resource_id: endpoint.id, details: expect.objectContaining({ reason: "failing" }) }),
    );
  });

  it("signs with both secrets for a day after a rotation", async () => {
    const hook = receiver();
    const endpoint = await createEndpoint(hook.url);
    const rotated = await call(`/${endpoint.id}/rotate`, { method: "POST" });
    expect(rotated.status).toBe(200);
    const fresh = (await rotated.json()) as Endpoint & { previous_secret_expires_at: string };
    expect(fresh.secret).not.toBe(endpoint.secret);
    const overlap = Date.parse(fresh.previous_secret_expires_at) - Date.now();
    expect(overlap).toBeGreaterThan(23.9 * 3600 * 1000);
    expect(overlap).toBeLessThanOrEqual(24 * 3600 * 1000);
    await sendTest(endpoint.id);
    await h.runJobs();
    const [request] = await hook.received();
    expect(request?.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(verified(fresh.secret, request as Received)).toMatchObject({ type: "webhook.test" });
    expect(verified(endpoint.secret, request as Received)).toMatchObject({ type: "webhook.test" });
    // Once the overlap is over, only the new secret signs.
    await h.withDb((db) =>
      db.execute(
        `update webhook_endpoints set previous_secret_expires_at = now() - interval '1 second' where id = '${endpoint.id}'`,
      ),
    );
    await sendTest(endpoint.id);
    await h.runJobs();
    const [, later] = await hook.received();
    expect(later?.headers["webhook-signature"]?.split(" ")).toHaveLength(1);
    expect(() => verified(endpoint.secret, later as Received)).toThrow();
    expect(verified(fresh.secret, later as Received)).toMatchObject({ type: "webhook.test" });
  });

  it("redelivers the same event with the same webhook-id, and refuses while a delivery is still going", async () => {
    const hook = receiver();
    const endpoint = await createEndpoint(hook.url);
    const queued = await sendTest(endpoint.id);
    const early = await call(`/deliveries/${queued.delivery_id}/redeliver`, { method: "POST" });
    expect(early.status).toBe(409);
    expect((await readProblem(early)).body).toMatchObject({ code: "DELIVERY_IN_PROGRESS" });
    await h.runJobs();
    const again = await call(`/deliveries/${queued.delivery_id}/redeliver`, { method: "POST" });
    expect(again.status).toBe(202);
    await h.runJobs();
    const received = await hook.received();
    expect(received).toHaveLength(2);
    expect(received.map((r) => r.headers["webhook-id"])).toEqual([queued.event_id, queued.event_id]);
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(delivery?.attempt_log.map((a) => a.attempt)).toEqual([1, 2]);
  });

  it("sends one request per attempt when the queue delivers a message twice", async () => {
    const hook = receiver();
    const endpoint = await createEndpoint(hook.url);
    await sendTest(endpoint.id);
    await h.runJobs({ duplicate: true });
    expect(await hook.received()).toHaveLength(1);
    expect((await deliveries(endpoint.id))[0]).toMatchObject({ status: "succeeded", attempts: 1 });
  });

  it("loses nothing when the queue refuses the message or a delivery crashes mid-way: the sweep sends it", async () => {
    const hook = receiver();
    const endpoint = await createEndpoint(hook.url);
    h.queues.refuseSends(true);
    const queued = await sendTest(endpoint.id).finally(() => h.queues.refuseSends(false));
    await h.runJobs();
    expect(await hook.received()).toHaveLength(0);
    // Two minutes later the delivery is overdue; the cron's sweep queues it again.
    await h.withDb((db) =>
      db.execute(
        `update webhook_deliveries set next_attempt_at = now() - interval '3 minutes' where id = '${queued.delivery_id}'`,
      ),
    );
    await runScheduled(h.env);
    await h.runJobs();
    expect(await hook.received()).toHaveLength(1);

    // A run that claimed an attempt and died: its lease lapses and the sweep hands the delivery on.
    const second = await sendTest(endpoint.id);
    await h.withDb((db) =>
      db.execute(
        `update webhook_deliveries set status = 'sending', attempts = 1, lease_until = now() - interval '1 second' where id = '${second.delivery_id}'`,
      ),
    );
    await h.runJobs();
    await runScheduled(h.env);
    await h.runJobs();
    const received = (await hook.received()).filter((r) => r.headers["webhook-id"] === second.event_id);
    expect(received).toHaveLength(1);
    const delivery = (await deliveries(endpoint.id)).find((d) => d.id === second.delivery_id);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("fails a delivery whose message was dead-lettered, for the owner to see and redeliver", async () => {
    const hook = receiver();
    const endpoint = await createEndpoint(hook.url);
    h.queues.refuseSends(true);
    const queued = await sendTest(endpoint.id).finally(() => h.queues.refuseSends(false));
    // Every delivery of the message crashed, and the queue moved it to the dead-letter queue.
    const ctx = createExecutionContext();
    const batch = createMessageBatch("ape-webhooks-dlq", [
      {
        id: "dead-1",
        timestamp: Date.now(),
        attempts: 1,
        body: { v: 1, kind: "webhook.deliver", deliveryId: queued.delivery_id, attempt: 1 },
      },
    ]);
    await handleQueueBatch(batch, h.env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["dead-1"]);
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempts: 0 });
    expect(delivery?.last_error).toContain("redeliver");
    expect((await call(`/deliveries/${queued.delivery_id}/redeliver`, { method: "POST" })).status).toBe(202);
    await h.runJobs();
    expect(await hook.received()).toHaveLength(1);
  });
});

describe("webhook secrets under their own key", () => {
  it("keeps an endpoint readable across a new JWT_SECRET, moving a secret sealed under the old one over", async () => {
    const hook = receiver();
    // Made before WEBHOOK_SECRETS_KEY was set: its secret is sealed under JWT_SECRET.
    const res = await h.request(
      "/api/v1/users/me/webhooks",
      h.json("POST", { url: hook.url, event_types: ["document.ready"] }, h.bearer(token)),
      { WEBHOOK_SECRETS_KEY: "" },
    );
    expect(res.status).toBe(201);
    const endpoint = (await res.json()) as Endpoint;
    const sealed = async () =>
      (await h.withDb((db) => db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id))))[0]
        ?.secretCiphertext ?? "";
    const before = await sealed();
    expect(before.startsWith("k1.")).toBe(false);

    // Its next delivery, with WEBHOOK_SECRETS_KEY set, signs as before and seals the secret again under it.
    await sendTest(endpoint.id);
    await h.runJobs();
    expect((await sealed()).startsWith("k1.")).toBe(true);

    // JWT_SECRET changes (after a leak, say): the endpoint still signs with its secret.
    await sendTest(endpoint.id);
    await h.runJobs({ env: { JWT_SECRET: `rotated-${crypto.randomUUID()}-${crypto.randomUUID()}` } });
    const received = await hook.received();
    expect(received).toHaveLength(2);
    for (const request of received) expect(verified(endpoint.secret, request)).toMatchObject({ type: "webhook.test" });
    const logged = await deliveries(endpoint.id);
    expect(logged.map((delivery) => delivery.status)).toEqual(["succeeded", "succeeded"]);
  });
});

describe("the endpoint limit under concurrency", () => {
  const columns = [{ name: "product", type: "string", required: true }];
  const endpointsOf = async (userId: string) =>
    h.withDb((db) => db.select().from(webhookEndpoints).where(eq(webhookEndpoints.userId, userId)));

  it("lets 25 concurrent creations make at most 20 endpoints", async () => {
    const owner = await h.signUp();
    const { scope } = receiver();
    const answers = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        h.request(
          "/api/v1/users/me/webhooks",
          h.json(
            "POST",
            { url: `${scope}/hook/${i}`, event_types: ["document.ready"] },
            h.bearer(owner.tokens.access_token),
          ),
        ),
      ),
    );
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(20);
    expect(statuses.filter((status) => status === 409)).toHaveLength(5);
    expect(await endpointsOf(owner.id)).toHaveLength(20);
  });

  it("counts endpoints made from jobs' webhook_url, concurrent ones too, against the same limit", async () => {
    const owner = await h.signUp();
    const hook = receiver();
    // Five made through the API, then 25 jobs at once, each naming a URL of its own. (The file's last test:
    // its jobs stay queued, unrun.)
    for (let i = 0; i < 5; i++) {
      const res = await h.request(
        "/api/v1/users/me/webhooks",
        h.json(
          "POST",
          { url: `${hook.scope}/api/${i}`, event_types: ["document.ready"] },
          h.bearer(owner.tokens.access_token),
        ),
      );
      expect(res.status).toBe(201);
    }
    const answers = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        h.request(
          "/api/v1/extraction/jobs",
          h.json(
            "POST",
            {
              source_type: "web_single",
              source_url: `${hook.scope}/prices`,
              schema: { columns },
              webhook_url: `${hook.scope}/job/${i}`,
            },
            h.bearer(owner.tokens.access_token),
          ),
        ),
      ),
    );
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(15);
    const refused = answers.filter((res) => res.status !== 202);
    expect(refused).toHaveLength(10);
    for (const res of refused) expect((await readProblem(res)).body.code).toBe("WEBHOOK_LIMIT_REACHED");
    expect(await endpointsOf(owner.id)).toHaveLength(20);
  });
});
