/**
 * One harness for every test file: a database of its own (cloned from the migrated template, so files never
 * see each other's rows), and a way to call APE's real app inside workerd with that database.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import { buildApp } from "../../src/app.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import type { RawEnv } from "../../src/env.js";
import { createJobQueues } from "./job-queues.js";

const withDatabase = (url: string, database: string) => url.replace(/\/[^/?]+(\?|$)/, `/${database}$1`);

/** Creates an empty, migrated database for one test file and returns its connection string. */
export const createTestDatabase = async () => {
  // The creation time in the name lets a later run drop what a crashed run left, and leave a concurrent run's.
  const name = `ape_t_${Math.floor(Date.now() / 1000)}_${inject("testRunId")}_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const admin = createDatabase(withDatabase(env.DATABASE_URL, "postgres"));
  try {
    await admin.pool.query(`create database "${name}" template "${inject("templateDatabase")}"`);
  } finally {
    await admin.close();
  }
  return withDatabase(env.DATABASE_URL, name);
};

export type Harness = Awaited<ReturnType<typeof createHarness>>;

/**
 * The app with a fresh database, and `request()` to call it as a client would.
 * @example
 * const h = await createHarness();
 * const res = await h.request("/api/v1/health");
 */
export const createHarness = async (overrides: Record<string, unknown> = {}) => {
  const databaseUrl = await createTestDatabase();
  const queues = createJobQueues();
  // Names resolve through the local DNS fake (each harness a zone of its own, empty unless a test adds records),
  // so no test ever asks a resolver on the internet.
  const resolver = `${inject("fakeDnsUrl")}/s/${crypto.randomUUID()}/dns-query`;
  const testEnv: RawEnv = {
    ...env,
    DATABASE_URL: databaseUrl,
    FETCH_DNS_RESOLVER_URL: resolver,
    ...queues.bindings(),
    ...overrides,
  };
  const { root } = buildApp();
  // Each harness is a client of its own address (one of 16 million, so two never meet), and the per-IP
  // limits of one test file never touch another's. The address is only a header value; nothing is sent to it.
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
  const ip = `10.${a}.${b}.${c}`;
  /**
   * Calls the app with an execution context of its own: the response, and `settled`, which resolves when the
   * Worker's after-response work (`waitUntil`) is done.
   */
  const dispatch = async (path: string, init: RequestInit = {}, envOverrides: Record<string, unknown> = {}) => {
    const ctx = createExecutionContext();
    const headers = new Headers(init.headers);
    if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", ip);
    const response = await root.fetch(
      new Request(`http://ape.test${path}`, { ...init, headers }),
      { ...testEnv, ...envOverrides },
      ctx,
    );
    return { response, settled: () => waitOnExecutionContext(ctx) };
  };
  const request = async (path: string, init: RequestInit = {}, envOverrides: Record<string, unknown> = {}) => {
    const { response, settled: settle } = await dispatch(path, init, envOverrides);
    // A streamed answer does its after-response work (usage, clean-up) once the stream ends, which is when
    // the test has read it: wait for that in settled(), not here.
    if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
      pending.push(settle());
      return response;
    }
    await settle();
    return response;
  };
  const pending: Promise<unknown>[] = [];
  /** Waits until every streamed answer's after-response work (usage rows, clean-up) is done. */
  const settled = async () => {
    await Promise.all(pending.splice(0));
  };
  const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
    method,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  /** Registers a fresh user and returns its email, password, id and tokens. */
  const signUp = async (overrides: { email?: string; password?: string; name?: string } = {}) => {
    const email = overrides.email ?? `user-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const password = overrides.password ?? `pw-${crypto.randomUUID()}`;
    const res = await request("/api/v1/auth/register", json("POST", { email, password, name: overrides.name }));
    if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as {
      user: { id: string };
      tokens: { access_token: string; refresh_token: string };
    };
    return { email, password, id: body.user.id, tokens: body.tokens };
  };
  /** Runs `work` with a drizzle handle on this harness's database, for checking what requests left behind. */
  const withDb = async <T>(work: (db: Database) => Promise<T>) => {
    const { db, close } = createDatabase(databaseUrl);
    try {
      return await work(db);
    } finally {
      await close();
    }
  };
  /**
   * Runs the queued background jobs (document ingestion, …) through APE's real queue handler with this
   * harness's environment, retries included, until none wait.
   */
  const runJobs = (options: Parameters<typeof queues.drain>[1] & { env?: Record<string, unknown> } = {}) =>
    queues.drain({ ...testEnv, ...options.env }, options);
  return { env: testEnv, databaseUrl, ip, dispatch, request, settled, json, bearer, signUp, withDb, queues, runJobs };
};

/** Asserts nothing by itself: reads a problem+json body with its content type, for expectations. */
export const readProblem = async (response: Response) => ({
  status: response.status,
  contentType: response.headers.get("content-type"),
  requestIdHeader: response.headers.get("x-request-id"),
  body: (await response.json()) as Record<string, unknown>,
});
