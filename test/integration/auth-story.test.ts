import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { apiKeys, auditLogs, sessions, users } from "../../src/db/schema/index.js";
import { readOutbox } from "../../src/integrations/email/outbox.js";
import { createRedis } from "../../src/integrations/redis.js";
import { createHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

// Audit entries are written after the response; poll until they land.
const auditActions = (userId: string) =>
  h
    .withDb((db) => db.select({ action: auditLogs.action }).from(auditLogs).where(eq(auditLogs.userId, userId)))
    .then((rows) => rows.map((row) => row.action));

describe("an account's life, as a user lives it", () => {
  it("registers, signs in, refreshes, catches a stolen refresh token, uses and revokes a key, resets the password, and leaves", async () => {
    const email = `Story-${crypto.randomUUID().slice(0, 6)}@Example.com`;
    const password = "a long and unusual passphrase 42";

    // Register: the email is stored lower-cased and a token pair comes back.
    const registered = await h.request("/api/v1/auth/register", h.json("POST", { email, password, name: "Ada" }));
    expect(registered.status).toBe(201);
    const reg = (await registered.json()) as { user: { id: string; email: string }; tokens: { access_token: string } };
    expect(reg.user.email).toBe(email.toLowerCase());
    const userId = reg.user.id;

    // The same email again is refused.
    const again = await h.request("/api/v1/auth/register", h.json("POST", { email: email.toUpperCase(), password }));
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe("EMAIL_TAKEN");

    // Log in and read `me`.
    const login = await h.request("/api/v1/auth/login", h.json("POST", { email, password }));
    expect(login.status).toBe(200);
    const first = ((await login.json()) as { tokens: { access_token: string; refresh_token: string } }).tokens;
    const me = await h.request("/api/v1/users/me", { headers: h.bearer(first.access_token) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: userId, name: "Ada", email: email.toLowerCase() });

    // Refresh twice: each answer is a new pair.
    const r1 = await h.request("/api/v1/auth/refresh", h.json("POST", { refresh_token: first.refresh_token }));
    expect(r1.status).toBe(200);
    const second = (await r1.json()) as { access_token: string; refresh_token: string };
    const r2 = await h.request("/api/v1/auth/refresh", h.json("POST", { refresh_token: second.refresh_token }));
    expect(r2.status).toBe(200);
    const third = (await r2.json()) as { access_token: string; refresh_token: string };
    expect(new Set([first.refresh_token, second.refresh_token, third.refresh_token]).size).toBe(3);

    // Reusing the first refresh token revokes the whole family: the newest tokens die with it.
    const reuse = await h.request("/api/v1/auth/refresh", h.json("POST", { refresh_token: first.refresh_token }));
    expect(reuse.status).toBe(401);
    expect(((await reuse.json()) as { code: string }).code).toBe("REFRESH_TOKEN_REUSED");
    expect(
      (await h.request("/api/v1/auth/refresh", h.json("POST", { refresh_token: third.refresh_token }))).status,
    ).toBe(401);
    expect((await h.request("/api/v1/users/me", { headers: h.bearer(third.access_token) })).status).toBe(401);
    await expect.poll(() => auditActions(userId)).toContain("auth.refresh_reuse");

    // Log in again and create a key.
    const relogin = await h.request("/api/v1/auth/login", h.json("POST", { email, password }));
    const session = ((await relogin.json()) as { tokens: { access_token: string } }).tokens;
    const created = await h.request(
      "/api/v1/users/me/api-keys",
      h.json("POST", { name: "script", scopes: ["read"] }, h.bearer(session.access_token)),
    );
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; key: string; prefix: string };
    expect(key.key).toMatch(/^ape_[0-9A-Za-z]{43}$/);
    expect(key.key.startsWith(key.prefix)).toBe(true);

    // The key works as a bearer token and as x-api-key; the list never shows it.
    expect((await h.request("/api/v1/users/me", { headers: h.bearer(key.key) })).status).toBe(200);
    expect((await h.request("/api/v1/users/me", { headers: { "x-api-key": key.key } })).status).toBe(200);
    const list = await h.request("/api/v1/users/me/api-keys", { headers: h.bearer(session.access_token) });
    const listed = await list.text();
    expect(listed).toContain(key.id);
    expect(listed).not.toContain(key.key);
    const stored = await h.withDb((db) => db.select().from(apiKeys).where(eq(apiKeys.id, key.id)));
    expect(stored[0]?.keyHash).not.toContain(key.key.slice(4));
    // A read key may not manage keys.
    const outOfScope = await h.request(
      "/api/v1/users/me/api-keys",
      h.json("POST", { name: "x", scopes: ["read"] }, h.bearer(key.key)),
    );
    expect(outOfScope.status).toBe(403);
    expect(((await outOfScope.json()) as { code: string }).code).toBe("INSUFFICIENT_SCOPE");

    // Revoke it: refused at once.
    const revoked = await h.request(`/api/v1/users/me/api-keys/${key.id}`, {
      method: "DELETE",
      headers: h.bearer(session.access_token),
    });
    expect(revoked.status).toBe(204);
    expect((await h.request("/api/v1/users/me", { headers: h.bearer(key.key) })).status).toBe(401);

    // Forgot and reset through the outbox; the old sessions are dead afterwards.
    const forgot = await h.request("/api/v1/auth/forgot-password", h.json("POST", { email }));
    expect(forgot.status).toBe(202);
    const unknown = await h.request(
      "/api/v1/auth/forgot-password",
      h.json("POST", { email: `nobody-${crypto.randomUUID().slice(0, 8)}@example.com` }),
    );
    expect(unknown.status).toBe(202);
    expect(await unknown.json()).toEqual(await forgot.json());
    const redis = createRedis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
    const [mail] = await readOutbox({ redis, to: email });
    const token = mail?.text.match(/reset-password: (\S+)/)?.[1];
    expect(token).toBeTruthy();
    const newPassword = "another quite unusual passphrase 7";
    const reset = await h.request("/api/v1/auth/reset-password", h.json("POST", { token, password: newPassword }));
    expect(reset.status).toBe(204);
    expect((await h.request("/api/v1/users/me", { headers: h.bearer(session.access_token) })).status).toBe(401);
    const replay = await h.request(
      "/api/v1/auth/reset-password",
      h.json("POST", { token, password: "yet another passphrase 99" }),
    );
    expect(replay.status).toBe(400);
    expect((await h.request("/api/v1/auth/login", h.json("POST", { email, password }))).status).toBe(401);
    const fresh = await h.request("/api/v1/auth/login", h.json("POST", { email, password: newPassword }));
    expect(fresh.status).toBe(200);
    const last = ((await fresh.json()) as { tokens: { access_token: string } }).tokens;

    // The audit trail tells the story, without secrets.
    await expect
      .poll(() => auditActions(userId))
      .toEqual(
        expect.arrayContaining([
          "auth.register",
          "auth.login",
          "auth.refresh",
          "auth.refresh_reuse",
          "api_key.create",
          "api_key.revoke",
          "auth.password_reset",
        ]),
      );
    const trail = await h.request("/api/v1/users/me/audit?limit=100", { headers: h.bearer(last.access_token) });
    const trailText = await trail.text();
    expect(trail.status).toBe(200);
    expect(trailText).not.toContain(password);
    expect(trailText).not.toContain(key.key);

    // Delete the account: wrong password refused, then everything it owned is gone.
    const wrong = await h.request(
      "/api/v1/users/me",
      h.json("DELETE", { password: "not it at all" }, h.bearer(last.access_token)),
    );
    expect(wrong.status).toBe(403);
    const gone = await h.request(
      "/api/v1/users/me",
      h.json("DELETE", { password: newPassword }, h.bearer(last.access_token)),
    );
    expect(gone.status).toBe(204);
    expect(await h.withDb((db) => db.select().from(users).where(eq(users.id, userId)))).toEqual([]);
    expect(await h.withDb((db) => db.select().from(apiKeys).where(eq(apiKeys.userId, userId)))).toEqual([]);
    expect(await h.withDb((db) => db.select().from(sessions).where(eq(sessions.userId, userId)))).toEqual([]);
    expect((await h.request("/api/v1/users/me", { headers: h.bearer(last.access_token) })).status).toBe(401);
  });
});
