import { beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

/** The `ape_refresh` cookie a response sets, with its attributes, or undefined. */
const refreshCookie = (res: Response) => res.headers.getSetCookie().find((line) => line.startsWith("ape_refresh="));
const cookieValue = (line: string | undefined) => line?.split(";")[0]?.slice("ape_refresh=".length) ?? "";

describe("the web UI's refresh cookie", () => {
  it("is set HttpOnly and SameSite=Strict on its own path at sign-in, refreshes without a body token, and is cleared at sign-out", async () => {
    const email = `cookie-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const password = "a long and unusual passphrase 42";
    await h.request("/api/v1/auth/register", h.json("POST", { email, password }));

    const login = await h.request("/api/v1/auth/login", h.json("POST", { email, password }));
    expect(login.status).toBe(200);
    const set = refreshCookie(login);
    expect(set).toBeDefined();
    expect(set).toContain("HttpOnly");
    expect(set).toContain("SameSite=Strict");
    expect(set).toContain("Path=/api/v1/auth");
    // The test app is reached over http://localhost, where a Secure cookie would never come back.
    expect(set).not.toContain("Secure");
    const { tokens } = (await login.json()) as { tokens: { refresh_token: string; access_token: string } };
    expect(cookieValue(set)).toBe(tokens.refresh_token);

    // A refresh with the cookie and no body token: a new access token, the next refresh token only in the cookie.
    const refreshed = await h.request(
      "/api/v1/auth/refresh",
      h.json("POST", {}, { cookie: `ape_refresh=${cookieValue(set)}` }),
    );
    expect(refreshed.status).toBe(200);
    const pair = (await refreshed.json()) as { access_token: string; refresh_token?: string };
    expect(pair.access_token).toBeTruthy();
    expect(pair.refresh_token).toBeUndefined();
    const next = refreshCookie(refreshed);
    expect(cookieValue(next)).toMatch(/^rt_/);
    expect(cookieValue(next)).not.toBe(tokens.refresh_token);

    // The old cookie value is now a reuse: the session ends and the cookie is cleared.
    const reused = await h.request(
      "/api/v1/auth/refresh",
      h.json("POST", {}, { cookie: `ape_refresh=${tokens.refresh_token}` }),
    );
    expect(reused.status).toBe(401);
    expect(((await reused.json()) as { code: string }).code).toBe("REFRESH_TOKEN_REUSED");
    expect(refreshCookie(reused)).toMatch(/Max-Age=0/);
  });

  it("answers 401 with neither a body token nor a cookie, and clears the cookie at sign-out", async () => {
    const none = await h.request("/api/v1/auth/refresh", h.json("POST", {}));
    expect(none.status).toBe(401);
    expect(((await none.json()) as { code: string }).code).toBe("INVALID_REFRESH_TOKEN");

    const { tokens } = await h.signUp();
    const out = await h.request("/api/v1/auth/logout", { method: "POST", headers: h.bearer(tokens.access_token) });
    expect(out.status).toBe(204);
    expect(refreshCookie(out)).toMatch(/Max-Age=0/);
  });

  it("lets the UI's origin send it: CORS allows credentials for WEB_ORIGINS only", async () => {
    const preflight = await h.request("/api/v1/auth/refresh", {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:8798",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost:8798");
    expect(preflight.headers.get("access-control-allow-credentials")).toBe("true");
    const other = await h.request("/api/v1/auth/refresh", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});
