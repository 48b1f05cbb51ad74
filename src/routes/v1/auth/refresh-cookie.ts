import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";

/**
 * The refresh token's second home, for the web UI: an HttpOnly cookie that script on the page (injected or
 * not) cannot read, sent only to /api/v1/auth and only from the same site. Bearer clients ignore it and keep
 * using the token in the JSON body.
 */
export const REFRESH_COOKIE = "ape_refresh";
const path = "/api/v1/auth";

// Secure everywhere but plain-http development (http://localhost, http://127.0.0.1), where a Secure cookie
// would never be sent back.
const secure = (c: Context) => new URL(c.req.url).protocol === "https:";

/**
 * Sets the cookie to a freshly issued refresh token.
 * @example
 * setRefreshCookie(c, tokens.refresh_token, tokens.refresh_expires_in);
 */
export const setRefreshCookie = (c: Context, token: string, maxAgeSeconds: number) =>
  setCookie(c, REFRESH_COOKIE, token, {
    path,
    httpOnly: true,
    secure: secure(c),
    sameSite: "Strict",
    maxAge: maxAgeSeconds,
  });

/** The refresh token the cookie holds, if any. */
export const readRefreshCookie = (c: Context) => getCookie(c, REFRESH_COOKIE);

/** Clears the cookie (sign-out, or a refresh that failed). */
export const clearRefreshCookie = (c: Context) =>
  deleteCookie(c, REFRESH_COOKIE, { path, httpOnly: true, secure: secure(c), sameSite: "Strict" });
