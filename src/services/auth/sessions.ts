import { and, eq, isNull } from "drizzle-orm";
import { refreshTokens, sessions } from "../../db/schema/index.js";
import { randomToken, sha256Hex } from "../../lib/crypto.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";
import { ACCESS_TOKEN_TTL_SECONDS, signAccessToken } from "./access-tokens.js";

/** A session lives 24 hours past its last use; a refresh token lives as long as its session could. */
export const SESSION_TTL_SECONDS = 24 * 60 * 60;
const sessionKey = (sessionId: string) => `session:${sessionId}`;

export type TokenPair = {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
};

const issueRefreshToken = async (ctx: ServiceContext, session: { id: string; userId: string }) => {
  const token = `rt_${randomToken(32)}`;
  await ctx.db.insert(refreshTokens).values({
    sessionId: session.id,
    userId: session.userId,
    tokenHash: await sha256Hex(token),
    expiresAt: new Date(Date.now() + SESSION_TTL_SECONDS * 1000),
  });
  return token;
};

const tokenPair = async (ctx: ServiceContext, session: { id: string; userId: string }, refreshToken: string) => ({
  access_token: await signAccessToken({ secret: ctx.env.JWT_SECRET, userId: session.userId, sessionId: session.id }),
  token_type: "Bearer" as const,
  expires_in: ACCESS_TOKEN_TTL_SECONDS,
  refresh_token: refreshToken,
  refresh_expires_in: SESSION_TTL_SECONDS,
});

/**
 * Starts a session for a user who just proved who they are: a durable row, the live Redis key, a first
 * refresh token and an access token.
 * @example
 * const tokens = await startSession({ ctx, userId: user.id });
 */
export const startSession = async ({ ctx, userId }: { ctx: ServiceContext; userId: string }): Promise<TokenPair> => {
  const [session] = await ctx.db
    .insert(sessions)
    .values({ userId, ipAddress: ctx.client.ip, userAgent: ctx.client.userAgent?.slice(0, 512) ?? null })
    .returning({ id: sessions.id, userId: sessions.userId });
  if (!session) throw new Error("session insert returned nothing");
  await ctx.redis.set(sessionKey(session.id), { userId }, { ex: SESSION_TTL_SECONDS });
  return tokenPair(ctx, session, await issueRefreshToken(ctx, session));
};

/**
 * Whether a session is live, sliding its expiry forward (one Redis round trip: GETEX). Logout and revocation
 * delete the key, so they take effect on the next request, access tokens included.
 */
export const touchSession = async ({
  ctx,
  sessionId,
  userId,
}: {
  ctx: ServiceContext;
  sessionId: string;
  userId: string;
}) => {
  const live = await ctx.redis.getex<{ userId: string }>(sessionKey(sessionId), { ex: SESSION_TTL_SECONDS });
  return live?.userId === userId;
};

/** Ends one session now. */
export const revokeSession = async ({
  ctx,
  sessionId,
  reason,
}: {
  ctx: ServiceContext;
  sessionId: string;
  reason: string;
}) => {
  await ctx.redis.del(sessionKey(sessionId));
  await ctx.db
    .update(sessions)
    .set({ revokedAt: new Date(), revokedReason: reason })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
};

/** Ends every session of a user now (password reset, account deletion). */
export const revokeAllSessions = async ({
  ctx,
  userId,
  reason,
}: {
  ctx: ServiceContext;
  userId: string;
  reason: string;
}) => {
  const live = await ctx.db
    .update(sessions)
    .set({ revokedAt: new Date(), revokedReason: reason })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  if (live.length > 0) await ctx.redis.del(...live.map((session) => sessionKey(session.id)));
  return live.length;
};

/**
 * Trades a refresh token for a new pair, rotating it. A token that was already rotated means a copy is in
 * someone else's hands: the whole session is revoked and the reuse audited.
 * @example
 * const tokens = await refreshSession({ ctx, refreshToken: body.refresh_token });
 */
export const refreshSession = async ({ ctx, refreshToken }: { ctx: ServiceContext; refreshToken: string }) => {
  const tokenHash = await sha256Hex(refreshToken);
  const [found] = await ctx.db
    .select({ token: refreshTokens, session: sessions })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, tokenHash))
    .limit(1);
  if (!found || found.session.revokedAt || found.token.expiresAt < new Date()) {
    throw new ApiError("INVALID_REFRESH_TOKEN", "Sign in again.");
  }
  const session = { id: found.session.id, userId: found.session.userId };
  // Rotate atomically: of two requests racing with the same token, only one wins; the other is a reuse.
  const rotated = found.token.rotatedAt
    ? []
    : await ctx.db
        .update(refreshTokens)
        .set({ rotatedAt: new Date() })
        .where(and(eq(refreshTokens.id, found.token.id), isNull(refreshTokens.rotatedAt)))
        .returning({ id: refreshTokens.id });
  if (rotated.length === 0) {
    await revokeSession({ ctx, sessionId: session.id, reason: "refresh_reuse" });
    ctx.audit({
      action: "auth.refresh_reuse",
      userId: session.userId,
      resourceType: "session",
      resourceId: session.id,
      details: { tokenId: found.token.id },
    });
    throw new ApiError("REFRESH_TOKEN_REUSED", "This refresh token was already used, so the session has been ended.");
  }
  if (!(await touchSession({ ctx, sessionId: session.id, userId: session.userId }))) {
    throw new ApiError("INVALID_REFRESH_TOKEN", "The session has ended; sign in again.");
  }
  ctx.audit({ action: "auth.refresh", userId: session.userId, resourceType: "session", resourceId: session.id });
  return tokenPair(ctx, session, await issueRefreshToken(ctx, session));
};
