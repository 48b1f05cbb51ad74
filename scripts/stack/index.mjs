// Brings a profile's whole local stack up or down: Postgres, Redis and the two bridges, then migrations.
import { ensureBridges, stopBridges } from "./bridges.mjs";
import { directDatabaseUrl, stackConfig, workerDatabaseUrl } from "./config.mjs";
import { ensurePostgres, stopPostgres } from "./postgres.mjs";
import { ensureRedis, stopRedisServer } from "./redis.mjs";
import { ensureDir } from "./util.mjs";

/**
 * Starts what is not running and reuses what is; refuses when a port is held by something else.
 * @param {"dev" | "test"} profile
 */
export const stackUp = async (profile) => {
  const cfg = stackConfig(profile);
  ensureDir(cfg.stateDir);
  await ensurePostgres(cfg);
  await ensureRedis(cfg);
  await ensureBridges(cfg);
  return stackEnv(cfg);
};

/** The settings that point APE at a profile's stack. */
export const stackEnv = (cfg) => ({
  DATABASE_URL: workerDatabaseUrl(cfg),
  DIRECT_DATABASE_URL: directDatabaseUrl(cfg),
  UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${cfg.upstashBridge.port}`,
  UPSTASH_REDIS_REST_TOKEN: cfg.upstashBridge.token,
  REDIS_URL: `redis://127.0.0.1:${cfg.redis.port}`,
});

/** Stops everything a profile started. */
export const stackDown = async (profile) => {
  const cfg = stackConfig(profile);
  const bridges = await stopBridges(cfg);
  const redis = await stopRedisServer(cfg.redis.dataDir);
  const postgres = stopPostgres(cfg);
  return { bridges, redis, postgres };
};
