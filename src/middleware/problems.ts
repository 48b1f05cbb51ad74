import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { App } from "../lib/app.js";
import { ApiError, type ErrorCode, renderProblem } from "../lib/errors.js";
import { createLogger } from "../lib/log.js";
import { generateRequestId } from "./request-id.js";

const HTTP_STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMITED",
};

/** Turns a Hono route path (`/a/:id`) into a matcher, to tell 405 from 404. */
const pathMatcher = (path: string) =>
  new RegExp(
    `^${path
      .split("/")
      .map((part) =>
        part.startsWith(":") ? "[^/]+" : part === "*" ? ".*" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
      )
      .join("/")}/?$`,
  );

const allowedMethods = (app: App, path: string) => {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    if (pathMatcher(route.path).test(path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  if (methods.size > 0) methods.add("OPTIONS");
  return [...methods];
};

/**
 * Renders every failure as problem+json: ApiErrors as they are, Hono's own HTTP exceptions by status, and
 * anything else as `INTERNAL`, logged with its stack but answered without it.
 */
export const handleError = (error: Error, c: Context) => {
  const id: string = c.get("requestId") ?? generateRequestId();
  const log = c.get("log") ?? createLogger({ level: "info", fields: { requestId: id } });
  let problem: ApiError;
  if (error instanceof ApiError) {
    problem = error;
    // Expected failures of ours that are still outages (a dependency down) are worth a line with their cause.
    if (problem.status >= 500) log.warn("request failed", { code: problem.code, cause: error.cause });
  } else if (error instanceof HTTPException && HTTP_STATUS_CODES[error.status]) {
    problem = new ApiError(HTTP_STATUS_CODES[error.status] as ErrorCode, error.message || undefined);
  } else {
    log.error("unhandled error", { error, method: c.req.method, path: c.req.path });
    problem = new ApiError("INTERNAL", "Something went wrong on our side. Quote the request id if you report it.");
  }
  const response = renderProblem(problem, { requestId: id, instance: c.req.path });
  // Keep the headers middleware already set (CORS, security), so browsers can read the error.
  c.res.headers.forEach((value, key) => {
    if (!response.headers.has(key) && key !== "content-length") response.headers.set(key, value);
  });
  return response;
};

/**
 * Installs the problem renderer on an app: `onError`, and a not-found handler that answers 405 with `Allow`
 * when the path exists under another method.
 * @example
 * const app = createApp();
 * installProblemHandling(app);
 */
export const installProblemHandling = (app: App) => {
  app.notFound((c) => {
    const methods = allowedMethods(app, c.req.path);
    if (methods.length > 0) {
      throw new ApiError("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed on ${c.req.path}.`, {
        headers: { allow: methods.join(", ") },
      });
    }
    throw new ApiError("NOT_FOUND", `No route ${c.req.method} ${c.req.path}.`);
  });
  app.onError(handleError);
};
