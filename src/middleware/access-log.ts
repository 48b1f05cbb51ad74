import { createMiddleware } from "hono/factory";
import type { InitVariables } from "./init.js";

/**
 * One structured line per request: method, path (never the query, which may carry tokens), status, duration.
 * @example
 * app.use("*", requestId(), init(), accessLog());
 */
export const accessLog = () =>
  createMiddleware<{ Variables: Partial<InitVariables> }>(async (c, next) => {
    const started = Date.now();
    await next();
    c.var.log?.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Date.now() - started,
    });
  });
