import type { Env } from "../env.js";
import type { Logger } from "../lib/log.js";
import { generateRequestId } from "../middleware/request-id.js";
import { createServiceContext, type ServiceContext } from "./context.js";

/**
 * Runs work outside a request (a queue message, a cron tick) with a service context of its own: no caller,
 * audit entries written by nobody (jobs record their outcome on their own rows), and what it opened closed
 * when it is done, after anything it deferred.
 * @example
 * await withBackgroundContext({ env, log }, (ctx) => flushUsage({ ctx }));
 */
export const withBackgroundContext = async <T>(
  options: { env: Env; log: Logger; requestId?: string },
  work: (ctx: ServiceContext) => Promise<T>,
): Promise<T> => {
  const cleanups: Array<() => Promise<unknown>> = [];
  const deferred: Promise<unknown>[] = [];
  const ctx = createServiceContext({
    env: options.env,
    log: options.log,
    requestId: options.requestId ?? generateRequestId(),
    client: { ip: null, userAgent: null },
    cleanup: (close) => cleanups.push(close),
    defer: (promise) => deferred.push(promise.catch((error) => options.log.error("deferred work failed", { error }))),
    audit: () => {},
  });
  try {
    return await work(ctx);
  } finally {
    await Promise.allSettled(deferred);
    await Promise.allSettled(cleanups.map((close) => close()));
  }
};
