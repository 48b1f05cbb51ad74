import { createMiddleware } from "hono/factory";
import { checkEnv, type RawEnv } from "../env.js";
import { ApiError } from "../lib/errors.js";
import { createLogger, type Logger } from "../lib/log.js";
import { createServiceContext, type ServiceContext } from "../services/context.js";
import type { RequestIdVariables } from "./request-id.js";

/** Context variables set by {@link init}. */
export type InitVariables = { ctx: ServiceContext; log: Logger };

/**
 * Validates the environment (once per isolate) and builds the request's service context; closes what the
 * request opened after the response is sent. A bad environment answers 503 `CONFIG_INVALID` naming each bad
 * setting, and logs the same list.
 * @example
 * app.use("*", requestId(), init());
 */
export const init = () =>
  createMiddleware<{ Bindings: RawEnv; Variables: InitVariables & RequestIdVariables }>(async (c, next) => {
    const check = checkEnv(c.env);
    const level = check.ok ? check.env.LOG_LEVEL : "info";
    const log = createLogger({ level, fields: { requestId: c.var.requestId } });
    c.set("log", log);
    if (!check.ok) {
      log.error("environment invalid", { problems: check.problems });
      throw new ApiError("CONFIG_INVALID", `Settings missing or invalid: ${check.problems.join("; ")}`);
    }
    const cleanups: Array<() => Promise<unknown>> = [];
    c.set(
      "ctx",
      createServiceContext({
        env: check.env,
        log,
        requestId: c.var.requestId,
        defer: (cleanup) => cleanups.push(cleanup),
      }),
    );
    try {
      await next();
    } finally {
      if (cleanups.length > 0) {
        const done = Promise.allSettled(cleanups.map((cleanup) => cleanup()));
        try {
          c.executionCtx.waitUntil(done);
        } catch {
          // No execution context (a test calling app.request without one): finish the clean-up inline.
          await done;
        }
      }
    }
  });
