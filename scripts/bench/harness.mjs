// What every benchmark shares: APE under `wrangler dev` on the test stack (migrated), with the limits lifted
// for the run, a JSON POST, a fresh account, and percentiles.
import { randomBytes } from "node:crypto";
import { applyMigrations } from "../migrate.mjs";
import { stackUp } from "../stack/index.mjs";
import { startWranglerDev } from "../wrangler-dev.mjs";

/**
 * Starts the test stack and APE on :8796 with `settings` added (provider settings, say); `ports` moves it.
 * @param {Record<string, string>} [settings]
 * @param {{ port?: number, inspectorPort?: number }} [ports]
 */
export const startBenchApe = async (settings = {}, { port = 8796, inspectorPort = 9338 } = {}) => {
  const stack = await stackUp("test");
  await applyMigrations(stack.DIRECT_DATABASE_URL);
  const server = await startWranglerDev({
    name: "bench",
    port,
    inspectorPort,
    settings: {
      ENVIRONMENT: "test",
      LOG_LEVEL: "error",
      DATABASE_URL: stack.DATABASE_URL,
      UPSTASH_REDIS_REST_URL: stack.UPSTASH_REDIS_REST_URL,
      UPSTASH_REDIS_REST_TOKEN: stack.UPSTASH_REDIS_REST_TOKEN,
      JWT_SECRET: randomBytes(32).toString("base64url"),
      // The benchmarks measure latency, not the limits: lift them for the run only.
      RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
      RATE_LIMIT_ACCOUNT_PER_MINUTE: "1000000",
      RATE_LIMIT_DEFAULT_PER_MINUTE: "1000000",
      ...settings,
    },
  });
  return { stack, server, base: `${server.url}/api/v1` };
};

/** POSTs `body` as JSON. @param {string} url @param {unknown} body @param {Record<string, string>} [headers] */
export const post = (url, body, headers = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

/** Registers a fresh account: its email, password, id and access token. @param {string} base */
export const register = async (base) => {
  const email = `bench-${randomBytes(4).toString("hex")}@example.com`;
  const password = `bench passphrase ${randomBytes(8).toString("hex")}`;
  const body = await (await post(`${base}/auth/register`, { email, password })).json();
  return { email, password, userId: body.user.id, access: body.tokens.access_token };
};

/** The p-th percentile (nearest rank). @param {number[]} samples @param {number} p */
export const percentile = (samples, p) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
