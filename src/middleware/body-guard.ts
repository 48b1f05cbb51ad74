import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../lib/errors.js";
import type { InitVariables } from "./init.js";

/** A route's own body rule: the media types it takes and its size limit (default: JSON, `MAX_BODY_BYTES`). */
export type BodyRule = { accept?: string[]; maxBytes?: number; tooLarge?: "PAYLOAD_TOO_LARGE" | "DOCUMENT_TOO_LARGE" };

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// Content-Length is not always present (chunked uploads, requests built in code), so the stream decides.
const hasBody = (request: Request) => request.body !== null && request.headers.get("content-length") !== "0";

const mediaType = (contentType: string | undefined) => contentType?.split(";")[0]?.trim().toLowerCase() ?? "";

const isJson = (type: string) => type === "application/json" || /^application\/[\w.+-]+\+json$/.test(type);

/**
 * Guards request bodies before any route sees them: over `MAX_BODY_BYTES` answers 413 (by Content-Length, or counted as it
 * arrives when the body is chunked), a media type the API does not take answers 415, and
 * JSON that does not parse answers 400 `MALFORMED_JSON`. The parsed JSON is cached by Hono, so the route's
 * validator does not parse it again.
 * @example
 * app.use("/api/v1/*", bodyGuard({ rule: (c) => (c.req.path === "/api/v1/files" ? { maxBytes: 10_000_000 } : undefined) }));
 */
export const bodyGuard = (
  options: { rule?: (c: Context<{ Variables: InitVariables }>) => BodyRule | undefined } = {},
) => {
  return createMiddleware<{ Variables: InitVariables }>(async (c, next) => {
    if (!METHODS_WITH_BODY.has(c.req.method) || !hasBody(c.req.raw)) return next();
    const rule = options.rule?.(c);
    const maxBytes = rule?.maxBytes ?? c.var.ctx.env.MAX_BODY_BYTES;
    const limit = bodyLimit({
      maxSize: maxBytes,
      onError: () => {
        throw new ApiError(rule?.tooLarge ?? "PAYLOAD_TOO_LARGE", `The body is larger than ${maxBytes} bytes.`);
      },
    });
    return limit(c, async () => {
      const type = mediaType(c.req.header("content-type"));
      const accepted = rule?.accept ?? ["application/json"];
      const allowed = accepted.some((candidate) =>
        candidate === "application/json" ? isJson(type) : candidate === "*/*" || candidate === type,
      );
      if (!allowed) {
        throw new ApiError(
          "UNSUPPORTED_MEDIA_TYPE",
          `Content-Type ${type || "(none)"} is not accepted here; send ${accepted.join(" or ")}.`,
          { headers: { "accept-post": accepted.join(", ") } },
        );
      }
      if (isJson(type) && !rule?.accept) {
        try {
          await c.req.json();
        } catch (error) {
          if (error instanceof ApiError) throw error;
          throw new ApiError("MALFORMED_JSON", "The body could not be parsed as JSON.");
        }
      }
      await next();
    });
  });
};
