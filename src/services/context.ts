import { createDatabase, type Database } from "../db/client.js";
import type { Env } from "../env.js";
import { createRedis, type Redis } from "../integrations/redis.js";
import { ApiError } from "../lib/errors.js";
import type { Logger } from "../lib/log.js";

/** What an API key may be granted. Routes name the scope they need; `session` routes take no API key. */
export const apiKeyScopes = ["chat", "research", "extraction", "code", "documents", "read"] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];
export type RouteScope = ApiKeyScope | "session";

/**
 * Who is calling: a signed-in session, an API key with its scopes, or a background job acting for the user who
 * started it (its model calls are that user's: budget and usage).
 */
export type Caller =
  | { kind: "session"; userId: string; sessionId: string }
  | { kind: "api_key"; userId: string; apiKeyId: string; scopes: ApiKeyScope[] }
  | { kind: "job"; userId: string; jobId: string };

/** One audit entry, as services describe it; the request's id, IP and user agent are added when it is written. */
export type AuditEntry = {
  action: string;
  userId?: string | null;
  resourceType?: string;
  resourceId?: string;
  details?: Record<string, unknown>;
};

/**
 * What every service verb receives: the caller (once authenticated), where the request came from, the
 * request's logger, an audit queue, and the outside systems, each made on first use so a route that needs no
 * database opens no socket.
 */
export type ServiceContext = {
  env: Env;
  log: Logger;
  requestId: string;
  client: { ip: string | null; userAgent: string | null };
  caller: Caller | null;
  /** Queues an audit entry, written once the response is on its way. */
  audit: (entry: AuditEntry) => void;
  /**
   * Whether a successful state-changing request that queued no entry gets a generic one. Model calls turn it
   * off: they change nothing of the account, and each is recorded in usage_records instead.
   */
  genericAudit: boolean;
  /** Runs work after the response (`waitUntil`), for what must not slow the request. */
  defer: (work: Promise<unknown>) => void;
  readonly db: Database;
  readonly redis: Redis;
};

/**
 * The signed-in caller's user id, which every owner check starts from; a service reached without a caller
 * (a route that forgot its auth middleware) answers 401 rather than acting for nobody.
 * @example
 * const userId = requireUser(ctx);
 */
export const requireUser = (ctx: ServiceContext) => {
  if (!ctx.caller) throw new ApiError("UNAUTHENTICATED");
  return ctx.caller.userId;
};

/**
 * Builds a request's service context. `cleanup` receives clean-up work (closing the Postgres pool), which the
 * caller runs once the response is on its way.
 * @example
 * const cleanups: Array<() => Promise<unknown>> = [];
 * const ctx = createServiceContext({ env, log, requestId, client, cleanup: (work) => cleanups.push(work), defer });
 */
export const createServiceContext = (options: {
  env: Env;
  log: Logger;
  requestId: string;
  client: ServiceContext["client"];
  cleanup: (work: () => Promise<unknown>) => void;
  defer: (work: Promise<unknown>) => void;
  audit: (entry: AuditEntry) => void;
}): ServiceContext => {
  const { env, cleanup } = options;
  let db: Database | undefined;
  let redis: Redis | undefined;
  return {
    env,
    log: options.log,
    requestId: options.requestId,
    client: options.client,
    caller: null,
    audit: options.audit,
    genericAudit: true,
    defer: options.defer,
    get db() {
      if (!db) {
        const created = createDatabase(env.DATABASE_URL);
        cleanup(created.close);
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
