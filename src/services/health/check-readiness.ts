import { sql } from "drizzle-orm";
import { queueBindings } from "../../env.js";
import { configuredProviders, providerSettings } from "../../llm/providers/index.js";
import type { ProviderId } from "../../llm/types.js";
import type { ServiceContext } from "../context.js";

export type DependencyStatus = { status: "up" | "down"; latency_ms: number; error?: string };

export type Readiness = {
  ready: boolean;
  checks: { postgres: DependencyStatus; redis: DependencyStatus; r2: DependencyStatus; queues: DependencyStatus };
  providers: { id: string; configured: boolean; settings: string[] }[];
};

// A readiness probe must answer quickly even when a dependency hangs.
const CHECK_TIMEOUT_MS = 3_000;

const timed = async (probe: () => Promise<unknown>): Promise<DependencyStatus> => {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: "up", latency_ms: Date.now() - started };
  } catch (error) {
    // The message says what failed (refused, timed out) without the connection string or token.
    const message = error instanceof Error ? error.message : String(error);
    return { status: "down", latency_ms: Date.now() - started, error: message.slice(0, 200) };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
};

/**
 * Checks every dependency APE needs to serve requests, in parallel, each within a few seconds.
 * @example
 * const readiness = await checkReadiness({ ctx });
 * if (!readiness.ready) console.log(readiness.checks);
 */
export const checkReadiness = async ({ ctx }: { ctx: ServiceContext }): Promise<Readiness> => {
  const { env } = ctx;
  const [postgres, redis, r2, queues] = await Promise.all([
    timed(() => ctx.db.execute(sql`select 1`)),
    timed(async () => {
      const pong = await ctx.redis.ping();
      if (pong !== "PONG") throw new Error(`unexpected PING reply ${String(pong).slice(0, 20)}`);
    }),
    timed(() => env.FILES.head("health/probe")),
    // Queues have no ping: a producer binding that exists is as ready as a Worker can tell.
    timed(async () => {
      const missing = Object.entries(queueBindings)
        .filter(([, name]) => typeof (env[name] as Queue | undefined)?.send !== "function")
        .map(([queue]) => queue);
      if (missing.length > 0) throw new Error(`missing queue bindings: ${missing.join(", ")}`);
    }),
  ]);
  const checks = { postgres, redis, r2, queues };
  return {
    ready: Object.values(checks).every((check) => check.status === "up"),
    checks,
    providers: Object.entries(providerSettings).map(([id, settings]) => ({
      id,
      configured: configuredProviders(env).providers.has(id as ProviderId),
      settings: [...settings],
    })),
  };
};

// Lives as long as the isolate: the last readiness of each configuration (one in production; tests point
// requests at other databases and Redis), so a flood of probes costs one round of checks every few seconds.
const recent = new Map<string, { at: number; readiness: Readiness }>();
const MAX_REMEMBERED = 16;

/**
 * {@link checkReadiness}, answered from the isolate's last result while it is younger than
 * `HEALTH_READY_CACHE_SECONDS` (0: always checks). A result that is down is kept as long as one that is up:
 * a flood while a dependency is down must not pile onto it.
 * @example
 * const readiness = await cachedReadiness({ ctx });
 */
export const cachedReadiness = async ({ ctx }: { ctx: ServiceContext }): Promise<Readiness> => {
  const { env } = ctx;
  const ttlMs = env.HEALTH_READY_CACHE_SECONDS * 1000;
  const key = [env.DATABASE_URL, env.UPSTASH_REDIS_REST_URL, ...configuredProviders(env).providers.keys()].join("\n");
  const hit = recent.get(key);
  if (hit && Date.now() - hit.at < ttlMs) return hit.readiness;
  const readiness = await checkReadiness({ ctx });
  if (ttlMs > 0) {
    recent.delete(key);
    recent.set(key, { at: Date.now(), readiness });
    for (const oldest of recent.keys()) {
      if (recent.size <= MAX_REMEMBERED) break;
      recent.delete(oldest);
    }
  }
  return readiness;
};
