import { checkEnv, type RawEnv } from "../src/env.js";
import { createLogger } from "../src/lib/log.js";
import { generateRequestId } from "../src/middleware/request-id.js";
import { createServiceContext } from "../src/services/context.js";
import { flushUsage } from "../src/services/usage/record-usage.js";

/**
 * The scheduled (cron) handler: moves usage that waits in Redis to Postgres, so the last calls of a quiet
 * period are written within a minute even when no later call flushes them.
 * @example
 * export default { scheduled: (controller, env, ctx) => ctx.waitUntil(runScheduled(env)) };
 */
export const runScheduled = async (rawEnv: RawEnv) => {
  const check = checkEnv(rawEnv);
  const log = createLogger({ level: check.ok ? check.env.LOG_LEVEL : "info", fields: { trigger: "cron" } });
  if (!check.ok) {
    log.error("environment invalid", { problems: check.problems });
    return;
  }
  const cleanups: Array<() => Promise<unknown>> = [];
  const deferred: Promise<unknown>[] = [];
  const ctx = createServiceContext({
    env: check.env,
    log,
    requestId: generateRequestId(),
    client: { ip: null, userAgent: null },
    cleanup: (close) => cleanups.push(close),
    defer: (work) => deferred.push(work),
    audit: () => {},
  });
  try {
    const moved = await flushUsage({ ctx });
    if (moved > 0) log.info("usage flushed", { events: moved });
  } catch (error) {
    log.error("usage flush failed; the events stay queued", { error });
  } finally {
    await Promise.allSettled(deferred);
    await Promise.allSettled(cleanups.map((close) => close()));
  }
};
