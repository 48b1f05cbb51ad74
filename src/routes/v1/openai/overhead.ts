import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../../lib/app.js";
import { upstreamClock } from "../../../services/llm/upstream-clock.js";

/**
 * Sets `x-ape-overhead-ms` on every front-door answer, errors included: the time from the request reaching the
 * front door (auth, rate limit, budget, cache, routing and accounting all come after) to its answer, less the
 * time spent waiting on providers. For a stream, the answer is its headers, sent with the first token.
 * @example
 * app.use(overheadHeader());
 */
export const overheadHeader = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const started = Date.now();
    await next();
    const upstream = c.var.ctx ? upstreamClock(c.var.ctx).ms : 0;
    c.res.headers.set("x-ape-overhead-ms", String(Math.max(0, Date.now() - started - upstream)));
  });
