import { errors, jwtVerify, SignJWT } from "jose";

/** Access tokens: HS256 JWTs, 15 minutes, bound to a session (`sid`) so logout ends them at once. */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const TOKEN_ISSUER = "ape";
export const TOKEN_AUDIENCE = "ape-api";
const ALGORITHM = "HS256";

export type AccessClaims = { sub: string; sid: string; jti: string };

const keyOf = (secret: string) => new TextEncoder().encode(secret);

/**
 * Signs an access token for a user's session.
 * @example
 * const token = await signAccessToken({ secret: env.JWT_SECRET, userId, sessionId });
 */
export const signAccessToken = async (options: { secret: string; userId: string; sessionId: string }) =>
  new SignJWT({ sid: options.sessionId })
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setSubject(options.userId)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ACCESS_TOKEN_TTL_SECONDS}s`)
    .sign(keyOf(options.secret));

/**
 * Verifies an access token: the algorithm is pinned (so `alg: none` and any other algorithm fail), and issuer,
 * audience, expiry and not-before are checked (RFC 8725). Returns null for any token that fails.
 */
export const verifyAccessToken = async (options: { secret: string; token: string }): Promise<AccessClaims | null> => {
  try {
    const { payload } = await jwtVerify(options.token, keyOf(options.secret), {
      algorithms: [ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      requiredClaims: ["sub", "sid", "jti", "iat", "exp"],
      clockTolerance: 5,
    });
    if (typeof payload.sub !== "string" || typeof payload.sid !== "string" || typeof payload.jti !== "string") {
      return null;
    }
    return { sub: payload.sub, sid: payload.sid, jti: payload.jti };
  } catch (error) {
    if (error instanceof errors.JOSEError) return null;
    throw error;
  }
};
