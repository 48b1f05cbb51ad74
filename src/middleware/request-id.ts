import { createMiddleware } from "hono/factory";

/** Context variables set by {@link requestId}. */
export type RequestIdVariables = { requestId: string };

// Accept ids from proxies and clients only when they are short and plain, so they are safe to log and echo.
const SANE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** A fresh request id: `req_` and 24 random hex characters. */
export const generateRequestId = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `req_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
};

/**
 * Honours a sane incoming `x-request-id` (or Cloudflare's `cf-ray`), else generates one; echoes it on every
 * response.
 * @example
 * app.use("*", requestId());
 * app.get("/", (c) => c.text(c.var.requestId));
 */
export const requestId = (options: { header?: string } = {}) => {
  const header = options.header ?? "x-request-id";
  return createMiddleware<{ Variables: RequestIdVariables }>(async (c, next) => {
    const incoming = c.req.header(header) ?? c.req.header("cf-ray");
    const id = incoming && SANE_ID.test(incoming) ? incoming : generateRequestId();
    c.set("requestId", id);
    await next();
    c.header(header, id);
  });
};
