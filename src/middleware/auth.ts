import { createMiddleware } from "hono/factory";
import { ApiError } from "../lib/errors.js";
import { authenticateApiKey } from "../services/api-keys/api-keys.js";
import { verifyAccessToken } from "../services/auth/access-tokens.js";
import { recordCredentialFailure } from "../services/auth/credential-failures.js";
import { touchSession } from "../services/auth/sessions.js";
import type { ApiKeyScope, Caller, RouteScope, ServiceContext } from "../services/context.js";
import type { InitVariables } from "./init.js";

const unauthenticated = (detail: string) =>
  new ApiError("UNAUTHENTICATED", detail, { headers: { "www-authenticate": 'Bearer realm="ape"' } });

const resolveCaller = async (ctx: ServiceContext, authorization: string | undefined, apiKey: string | undefined) => {
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (authorization && !bearer) throw unauthenticated("The Authorization header must be `Bearer <token>`.");
  const key = apiKey ?? (bearer?.startsWith("ape_") ? bearer : undefined);
  if (key) {
    const caller = await authenticateApiKey({ ctx, key });
    if (!caller) throw unauthenticated("The API key is unknown, revoked or expired.");
    return caller;
  }
  if (!bearer) throw unauthenticated("Send `Authorization: Bearer <access token or API key>`, or `x-api-key`.");
  const claims = await verifyAccessToken({ secret: ctx.env.JWT_SECRET, token: bearer });
  if (!claims) {
    // A forged or stale token costs no database work, but counts against the IP like a bad API key.
    await recordCredentialFailure(ctx);
    throw unauthenticated("The access token is invalid or expired; refresh it or sign in again.");
  }
  let live: boolean;
  try {
    live = await touchSession({ ctx, sessionId: claims.sid, userId: claims.sub });
  } catch (error) {
    // Without the session store we cannot know whether the session was revoked, so we refuse.
    throw new ApiError("NOT_READY", "Sessions cannot be checked right now; try again shortly.", { cause: error });
  }
  if (!live) {
    await recordCredentialFailure(ctx);
    throw unauthenticated("The session has ended; sign in again.");
  }
  return { kind: "session", userId: claims.sub, sessionId: claims.sid } satisfies Caller;
};

const allows = (caller: Caller, scope: RouteScope, method: string) => {
  if (caller.kind === "session") return true;
  // Jobs never come through a route; a job caller here would be a bug, and is refused.
  if (scope === "session" || caller.kind === "job") return false;
  return caller.scopes.includes(scope) || (method === "GET" && caller.scopes.includes("read"));
};

/**
 * Requires a caller: an access token of a live session, or an API key whose scopes cover `scope` (GET routes
 * also take a `read` key). `session` routes (account and key management) take no API key at all.
 * @example
 * createRoute({ ..., middleware: [requireAuth("read")] })
 */
export const requireAuth = (scope: RouteScope) =>
  createMiddleware<{ Variables: InitVariables }>(async (c, next) => {
    const ctx = c.var.ctx;
    const caller = await resolveCaller(ctx, c.req.header("authorization"), c.req.header("x-api-key"));
    if (!allows(caller, scope, c.req.method)) {
      throw new ApiError(
        "INSUFFICIENT_SCOPE",
        scope === "session"
          ? "This route needs a signed-in session, not an API key."
          : `This route needs the \`${scope}\` scope.`,
      );
    }
    ctx.caller = caller;
    c.var.log.debug("authenticated", { userId: caller.userId, kind: caller.kind });
    await next();
  });

/**
 * Requires a caller, as {@link requireAuth} does, but of any scope: for a route whose operations each need a
 * scope of their own (the MCP server's tools), which then check it with {@link assertScope}.
 * @example
 * createRoute({ ..., middleware: [requireCaller(), rateLimit("default")] })
 */
export const requireCaller = () =>
  createMiddleware<{ Variables: InitVariables }>(async (c, next) => {
    const ctx = c.var.ctx;
    const caller = await resolveCaller(ctx, c.req.header("authorization"), c.req.header("x-api-key"));
    if (caller.kind === "job") throw new ApiError("INSUFFICIENT_SCOPE", "A job cannot call routes.");
    ctx.caller = caller;
    c.var.log.debug("authenticated", { userId: caller.userId, kind: caller.kind });
    await next();
  });

/**
 * Refuses (`INSUFFICIENT_SCOPE`) a caller whose API key lacks `scope`, by the rule {@link requireAuth} applies to
 * routes: `reads` operations are those a GET route would serve, which a `read` key may also use.
 * @example
 * assertScope(ctx.caller, "research", { reads: true });
 */
export const assertScope = (caller: Caller | null, scope: ApiKeyScope, options: { reads: boolean }) => {
  if (!caller) throw unauthenticated("Send `Authorization: Bearer <access token or API key>`, or `x-api-key`.");
  if (!allows(caller, scope, options.reads ? "GET" : "POST")) {
    throw new ApiError("INSUFFICIENT_SCOPE", `This needs the \`${scope}\` scope.`);
  }
};
