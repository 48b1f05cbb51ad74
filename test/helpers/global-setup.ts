/**
 * Runs in Node before the workerd tests: starts (or reuses) the test stack, migrates its databases, and starts
 * a spare Redis with its own Upstash bridge that one test stops on purpose. Values reach the tests through
 * vitest's provide/inject.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { applyMigrations } from "../../scripts/migrate.mjs";
import { stackConfig } from "../../scripts/stack/config.mjs";
import { stackUp } from "../../scripts/stack/index.mjs";
import { startRedisServer, stopRedisServer } from "../../scripts/stack/redis.mjs";
import { startUpstashBridge } from "../../scripts/stack/upstash-bridge.mjs";
import { startFakeBedrock } from "./fake-bedrock.mjs";
import { startFakeDns } from "./fake-dns.mjs";
import { startFakeFirecrawl } from "./fake-firecrawl.mjs";
import { startFakeOpenAi } from "./fake-openai.mjs";
import { startFakeSearxng } from "./fake-searxng.mjs";
import { startFakeSes } from "./fake-ses.mjs";
import { startFakeSites } from "./fake-sites.mjs";
import { startFakeTextract } from "./fake-textract.mjs";
import { startFakeUpstashVector } from "./fake-upstash-vector.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    stackBindings: Record<string, string>;
    templateDatabase: string;
    testRunId: string;
    spareRedisControl: string;
    fakeSesUrl: string;
    fakeBedrockUrl: string;
    fakeOpenAiUrl: string;
    fakeTextractUrl: string;
    fakeUpstashVectorUrl: string;
    fakeFirecrawlUrl: string;
    fakeSearxngUrl: string;
    fakeDnsUrl: string;
    fakeSitesUrl: string;
    fakeSitesAltUrl: string;
  }
}

const TEMPLATE_DATABASE = "ape_test_template";

export default async function setup(project: TestProject) {
  const cfg = stackConfig("test");
  const env = await stackUp("test");

  // Each test file gets its own database cloned from a migrated template (see test/helpers/database.ts).
  const admin = new pg.Client({ connectionString: env.DIRECT_DATABASE_URL.replace(/\/[^/]+$/, "/postgres") });
  await admin.connect();
  const stale = await admin.query<{ datname: string }>(
    "select datname from pg_database where datname like 'ape_t\\_%'",
  );
  // Databases of earlier runs, by the creation time in their names; a run going on beside this one (another
  // terminal, a benchmark) keeps its own.
  const cutoff = Date.now() / 1000 - 3 * 3600;
  for (const row of stale.rows) {
    const created = Number(/^ape_t_(\d+)_/.exec(row.datname)?.[1] ?? 0);
    if (created < cutoff) await admin.query(`drop database if exists "${row.datname}" with (force)`);
  }
  const template = await admin.query("select 1 from pg_database where datname = $1", [TEMPLATE_DATABASE]);
  if (template.rowCount === 0) await admin.query(`create database "${TEMPLATE_DATABASE}"`);
  await admin.end();
  await applyMigrations(env.DIRECT_DATABASE_URL);
  await applyMigrations(env.DIRECT_DATABASE_URL.replace(/\/[^/]+$/, `/${TEMPLATE_DATABASE}`));

  // Spare Redis servers, one per test that stops Redis on purpose (so such tests can run in parallel), each
  // with its own Upstash bridge; made on request through a small control server (test/helpers/spare-redis.ts).
  type Spare = {
    dir: string;
    options: Parameters<typeof startRedisServer>[0];
    url: string;
    token: string;
    close: () => Promise<void>;
  };
  // One promise per name, taken before any await: two tests asking at once must never get the same ports.
  const spares = new Map<string, Promise<Spare>>();
  const makeSpare = (name: string) => {
    let spare = spares.get(name);
    if (!spare) {
      spare = startSpare(name, spares.size);
      spares.set(name, spare);
    }
    return spare;
  };
  const startSpare = async (name: string, index: number): Promise<Spare> => {
    const dir = join(cfg.stateDir, `spare-redis-${index}`);
    mkdirSync(dir, { recursive: true });
    // Ports above the stack's own, below the ephemeral range; the bridge listens on one the OS picks.
    const options = { port: cfg.redis.port + 20 + index, dir, persistence: false, label: `spare test Redis ${name}` };
    await startRedisServer(options);
    const token = randomBytes(16).toString("hex");
    const bridge = await startUpstashBridge({ port: 0, redisUrl: `redis://127.0.0.1:${options.port}`, token });
    return { dir, options, url: bridge.url, token, close: bridge.close };
  };
  const control = createServer(async (request, response) => {
    try {
      const [, , name = "", action = ""] = (request.url ?? "").split("/");
      const spare = await makeSpare(name);
      if (action === "stop") await stopRedisServer(spare.dir);
      else if (action === "start") await startRedisServer(spare.options);
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ url: spare.url, token: spare.token }));
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
  const address = control.address();
  const controlPort = typeof address === "object" && address ? address.port : 0;

  project.provide("stackBindings", {
    DATABASE_URL: env.DATABASE_URL,
    UPSTASH_REDIS_REST_URL: env.UPSTASH_REDIS_REST_URL,
    UPSTASH_REDIS_REST_TOKEN: env.UPSTASH_REDIS_REST_TOKEN,
    JWT_SECRET: randomBytes(32).toString("base64url"),
    WEBHOOK_SECRETS_KEY: randomBytes(32).toString("base64url"),
  });
  project.provide("templateDatabase", TEMPLATE_DATABASE);
  const runId = randomBytes(4).toString("hex");
  project.provide("testRunId", runId);
  const fakeSes = await startFakeSes();
  project.provide("fakeSesUrl", fakeSes.url);
  const fakeBedrock = await startFakeBedrock();
  project.provide("fakeBedrockUrl", fakeBedrock.url);
  const fakeOpenAi = await startFakeOpenAi();
  project.provide("fakeOpenAiUrl", fakeOpenAi.url);
  const fakeTextract = await startFakeTextract();
  project.provide("fakeTextractUrl", fakeTextract.url);
  const fakeUpstashVector = await startFakeUpstashVector();
  project.provide("fakeUpstashVectorUrl", fakeUpstashVector.url);
  const fakeFirecrawl = await startFakeFirecrawl();
  project.provide("fakeFirecrawlUrl", fakeFirecrawl.url);
  const fakeSearxng = await startFakeSearxng();
  project.provide("fakeSearxngUrl", fakeSearxng.url);
  const fakeDns = await startFakeDns();
  project.provide("fakeDnsUrl", fakeDns.url);
  // Two origins of the same sites (see fake-sites.mjs): the second stands for a target kept out of FETCH_ALLOW_HOSTS.
  const fakeSites = await startFakeSites();
  project.provide("fakeSitesUrl", fakeSites.url);
  project.provide("fakeSitesAltUrl", fakeSites.altUrl);
  project.provide("spareRedisControl", `http://127.0.0.1:${controlPort}`);

  return async () => {
    // This run's databases go with it (by the run id in their names); another run's stay.
    const cleaner = new pg.Client({ connectionString: env.DIRECT_DATABASE_URL.replace(/\/[^/]+$/, "/postgres") });
    await cleaner.connect();
    const mine = await cleaner.query<{ datname: string }>("select datname from pg_database where datname like $1", [
      `ape\\_t\\_%\\_${runId}\\_%`,
    ]);
    for (const row of mine.rows) await cleaner.query(`drop database if exists "${row.datname}" with (force)`);
    await cleaner.end();
    await new Promise((resolve) => control.close(resolve));
    await fakeSes.close();
    await fakeBedrock.close();
    await fakeOpenAi.close();
    await fakeTextract.close();
    await fakeUpstashVector.close();
    await fakeFirecrawl.close();
    await fakeSearxng.close();
    await fakeDns.close();
    await fakeSites.close();
    for (const pending of spares.values()) {
      const spare = await pending;
      await spare.close();
      await stopRedisServer(spare.dir);
    }
  };
}
