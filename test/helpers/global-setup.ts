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

declare module "vitest" {
  export interface ProvidedContext {
    stackBindings: Record<string, string>;
    templateDatabase: string;
    spareRedis: { url: string; token: string; controlUrl: string };
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
  for (const row of stale.rows) await admin.query(`drop database if exists "${row.datname}" with (force)`);
  const template = await admin.query("select 1 from pg_database where datname = $1", [TEMPLATE_DATABASE]);
  if (template.rowCount === 0) await admin.query(`create database "${TEMPLATE_DATABASE}"`);
  await admin.end();
  await applyMigrations(env.DIRECT_DATABASE_URL);
  await applyMigrations(env.DIRECT_DATABASE_URL.replace(/\/[^/]+$/, `/${TEMPLATE_DATABASE}`));

  // The spare Redis: a real redis-server that the readiness test stops to see APE report it down.
  const spareDir = join(cfg.stateDir, "spare-redis");
  mkdirSync(spareDir, { recursive: true });
  const sparePort = cfg.redis.port + 10;
  const spareOptions = { port: sparePort, dir: spareDir, persistence: false, label: "spare test Redis" };
  await startRedisServer(spareOptions);
  const spareToken = randomBytes(16).toString("hex");
  const bridge = await startUpstashBridge({
    port: cfg.upstashBridge.port + 10,
    redisUrl: `redis://127.0.0.1:${sparePort}`,
    token: spareToken,
  });
  const control = createServer(async (request, response) => {
    try {
      if (request.url === "/spare-redis/stop") await stopRedisServer(spareDir);
      else if (request.url === "/spare-redis/start") await startRedisServer(spareOptions);
      else return void response.writeHead(404).end();
      response.writeHead(204).end();
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
  });
  project.provide("templateDatabase", TEMPLATE_DATABASE);
  project.provide("spareRedis", { url: bridge.url, token: spareToken, controlUrl: `http://127.0.0.1:${controlPort}` });

  return async () => {
    await bridge.close();
    await new Promise((resolve) => control.close(resolve));
    await stopRedisServer(spareDir);
  };
}
