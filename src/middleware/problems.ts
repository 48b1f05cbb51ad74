import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { App } from "../lib/app.js";
import { ApiError, type ErrorCode, renderOpenAiError, renderProblem } from "../lib/errors.js";
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
 * Any failure as an ApiError: ApiErrors as they are, Hono's own HTTP exceptions by status, and anything else
 * as `INTERNAL`, logged with its stack but answered without it.
 */
const asApiError = (error: Error, c: Context, requestId: string) => {
  if (error instanceof ApiError) {
    // Expected failures of ours that are still outages (a dependency down) are worth a line with their cause.
    if (error.status >= 500) logOf(c, requestId).warn("request failed", { code: error.code, cause: error.cause });
    return error;
  }
  if (error instanceof HTTPException && HTTP_STATUS_CODES[error.status]) {
    return new ApiError(HTTP_STATUS_CODES[error.status] as ErrorCode, error.message || undefined);
  }
  logOf(c, requestId).error("unhandled error", { error, method: c.req.method, path: c.req.path });
  return new ApiError("INTERNAL", "Something went wrong on our side. Quote the request id if you report it.");
};

const logOf = (c: Context, requestId: string) => c.get("log") ?? createLogger({ level: "info", fields: { requestId } });

/** Keeps the headers middleware already set (CORS, security), so browsers can read the error. */
const withContextHeaders = (response: Response, c: Context) => {
  c.res.headers.forEach((value, key) => {
    if (!response.headers.has(key) && key !== "content-length") response.headers.set(key, value);
  });
  return response;
};

/** Where the OpenAI-compatible front door lives: its clients parse OpenAI's error shape, not problem+json. */
const OPENAI_PATH = /^\/api\/v1\/openai(\/|$)/;

/** Renders every failure as problem+json; under the OpenAI-compatible front door, in OpenAI's error shape. */
export const handleError = (error: Error, c: Context) => {
  const requestId: string = c.get("requestId") ?? generateRequestId();
  const problem = asApiError(error, c, requestId);
  const response = OPENAI_PATH.test(c.req.path)
    ? renderOpenAiError(problem, { requestId })
    : renderProblem(problem, { requestId, instance: c.req.path });
  return withContextHeaders(response, c);
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
