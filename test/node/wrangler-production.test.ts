import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { productionProblems } from "../../src/config/production-safety.js";

// The production environment `npm run deploy` deploys, read the way wrangler reads it.
type Config = {
  vars: Record<string, unknown>;
  routes?: Array<string | { pattern: string }>;
  durable_objects: { bindings: Array<{ name: string }> };
  r2_buckets: Array<{ binding: string }>;
  queues: { producers?: Array<{ binding: string; queue: string }>; consumers?: Array<{ queue: string }> };
  triggers: { crons?: string[] };
};
const read = (env?: string) =>
  unstable_readConfig({ config: "wrangler.toml", env }, { hideWarnings: true }) as unknown as Config;

describe("wrangler.toml [env.production]", () => {
  const production = read("production");
  const local = read();

  it("runs as production, with vars that pass APE's production checks once the secrets are put", () => {
    const vars = production.vars as Record<string, string>;
    expect(vars.ENVIRONMENT).toBe("production");
    const problems = productionProblems({
      EMAIL_PROVIDER: vars.EMAIL_PROVIDER ?? "outbox",
      WEB_ORIGINS: (vars.WEB_ORIGINS ?? "").split(",").filter(Boolean),
      FETCH_ALLOW_HOSTS: (vars.FETCH_ALLOW_HOSTS ?? "").split(",").filter(Boolean),
      // What `wrangler secret put` supplies: never in the file.
      JWT_SECRET: "j".repeat(48),
      WEBHOOK_SECRETS_KEY: "w".repeat(48),
    });
    expect(problems).toEqual([]);
    expect(Object.keys(vars)).not.toContain("JWT_SECRET");
  });

  it("has every binding the local Worker has (wrangler does not inherit them)", () => {
    const names = (config: ReturnType<typeof read>) => ({
      durableObjects: config.durable_objects.bindings.map((binding) => binding.name).sort(),
      r2: config.r2_buckets.map((bucket) => bucket.binding).sort(),
      producers: (config.queues.producers ?? []).map((producer) => `${producer.binding}:${producer.queue}`).sort(),
      consumers: (config.queues.consumers ?? []).map((consumer) => consumer.queue).sort(),
    });
    expect(names(production)).toEqual(names(local));
    expect(production.triggers.crons).toEqual(local.triggers.crons);
  });

  it("consumes its queues exactly as the local Worker does (batch sizes, concurrency, retries, dead letters)", () => {
    const byQueue = (config: ReturnType<typeof read>) =>
      [...(config.queues.consumers ?? [])].sort((a, b) => a.queue.localeCompare(b.queue));
    expect(byQueue(production)).toEqual(byQueue(local));
  });

  it("serves the API on the web UI's host, so the SameSite=Strict refresh cookie is first-party", () => {
    const origin = new URL((production.vars as Record<string, string>).WEB_ORIGINS?.split(",")[0] ?? "");
    const routes = (production.routes ?? []).map((route) => (typeof route === "string" ? route : route.pattern));
    expect(routes).toContain(`${origin.host}/api/*`);
  });
});
