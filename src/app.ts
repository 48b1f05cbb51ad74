import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { createApp } from "./lib/app.js";
import { accessLog } from "./middleware/access-log.js";
import { bodyGuard } from "./middleware/body-guard.js";
import { init } from "./middleware/init.js";
import { installProblemHandling } from "./middleware/problems.js";
import { requestId } from "./middleware/request-id.js";
import { registerAuthRoutes } from "./routes/v1/auth/index.js";
import { registerChatRoutes } from "./routes/v1/chat/index.js";
import { registerCodeRoutes } from "./routes/v1/code/index.js";
import { registerDocsRoutes } from "./routes/v1/docs/index.js";
import { registerDocumentRoutes } from "./routes/v1/documents/index.js";
import { registerExtractionRoutes } from "./routes/v1/extraction/index.js";
import { registerHealthRoutes } from "./routes/v1/health/index.js";
import { registerMcpRoutes } from "./routes/v1/mcp/index.js";
import { createOpenAiRoutes } from "./routes/v1/openai/index.js";
import { registerResearchRoutes } from "./routes/v1/research/index.js";
import { registerUserRoutes } from "./routes/v1/users/index.js";
import { registerWebhookRoutes } from "./routes/v1/webhooks/index.js";

export const API_BASE = "/api/v1";

/** Room for a multipart upload's boundaries and part headers above the file's own size limit. */
const UPLOAD_OVERHEAD_BYTES = 64 * 1024;

/**
 * Builds APE's API: middleware in order, every module's routes, the OpenAPI document and the docs page.
 * @example
 * const app = buildApp();
 * const res = await app.request("/api/v1/health", {}, env);
 */
export const buildApp = () => {
  const root = createApp();
  const api = createApp();

  // Request ids and security headers go on everything, including a 404 outside /api/v1. The docs page sets
  // its own Content-Security-Policy (it loads its script and styles).
  const apiHeaders = secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    crossOriginResourcePolicy: "same-site",
  });
  const docsHeaders = secureHeaders({ contentSecurityPolicy: undefined });
  root.use("*", requestId());
  root.use("*", (c, next) => (c.req.path === `${API_BASE}/docs` ? docsHeaders(c, next) : apiHeaders(c, next)));
  api.use("*", init());
  api.use(
    "*",
    cors({
      origin: (origin, c) => (c.var.ctx.env.WEB_ORIGINS.includes(origin) ? origin : null),
      credentials: true,
      // `mcp-protocol-version` and `mcp-session-id` are what the MCP SDK's browser client sends to /mcp after
      // its first request; without them a web page's MCP client is stopped at the preflight.
      allowHeaders: [
        "authorization",
        "content-type",
        "idempotency-key",
        "last-event-id",
        "mcp-protocol-version",
        "mcp-session-id",
        "x-api-key",
        "x-request-id",
      ],
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      exposeHeaders: [
        "x-request-id",
        "retry-after",
        "ratelimit",
        "ratelimit-policy",
        "mcp-session-id",
        "x-ape-provider",
        "x-ape-model",
        "x-ape-cache",
        "x-ape-overhead-ms",
      ],
      maxAge: 600,
    }),
  );
  api.use("*", accessLog());
  // Uploads take any media type (the bytes decide what a file is) and their own, larger size limit.
  api.use(
    "*",
    bodyGuard({
      rule: (c) =>
        c.req.method === "POST" && c.req.path === `${API_BASE}/documents`
          ? {
              accept: ["*/*"],
              maxBytes: c.var.ctx.env.DOCUMENT_MAX_BYTES + UPLOAD_OVERHEAD_BYTES,
              tooLarge: "DOCUMENT_TOO_LARGE",
            }
          : undefined,
    }),
  );

  registerHealthRoutes(api);
  registerAuthRoutes(api);
  registerUserRoutes(api);
  registerChatRoutes(api);
  registerCodeRoutes(api);
  registerDocumentRoutes(api);
  registerExtractionRoutes(api);
  registerWebhookRoutes(api);
  registerResearchRoutes(api);
  api.route("/openai", createOpenAiRoutes());
  registerMcpRoutes(api);
  registerDocsRoutes(api);

  root.route(API_BASE, api);
  // Both apps render problems: the API's own errors, and on the root a 404 or 405 for any path (the root
  // holds every route under its full path, so it can tell a wrong method from a wrong path).
  installProblemHandling(api);
  installProblemHandling(root);
  return { root, api };
};
