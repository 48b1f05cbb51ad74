import { createDatabase, type Database } from "../db/client.js";
import type { Env } from "../env.js";
import { createRedis, type Redis } from "../integrations/redis.js";
import type { Logger } from "../lib/log.js";

/**
 * What every service verb receives: who asks (later: the caller), the request's logger, and the outside
 * systems, each made on first use so a route that needs no database opens no socket.
 */
export type ServiceContext = {
  env: Env;
  log: Logger;
  requestId: string;
  readonly db: Database;
  readonly redis: Redis;
};

/**
 * Builds a request's service context. `defer` receives clean-up work (closing the Postgres pool), which the
 * caller runs once the response is on its way.
 * @example
 * const cleanups: Array<() => Promise<unknown>> = [];
 * const ctx = createServiceContext({ env, log, requestId, defer: (work) => cleanups.push(work) });
 */
export const createServiceContext = (options: {
  env: Env;
  log: Logger;
  requestId: string;
  defer: (cleanup: () => Promise<unknown>) => void;
}): ServiceContext => {
  const { env, log, requestId, defer } = options;
  let db: Database | undefined;
  let redis: Redis | undefined;
  return {
    env,
    log,
    requestId,
    get db() {
      if (!db) {
        const created = createDatabase(env.DATABASE_URL);
        defer(created.close);
        db = created.db;
      }
      return db;
    },
    get redis() {
      redis ??= createRedis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
      return redis;
    },
  };
};
