import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { passwordResetTokens } from "../../src/db/schema/index.js";
import { readOutbox } from "../../src/integrations/email/outbox.js";
import { createRedis } from "../../src/integrations/redis.js";
import { createHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

const codeOf = async (res: Response) => ((await res.json()) as { code: string }).code;

describe("changing the account", () => {
  it("changes the email only with the current password, and never to someone else's", async () => {
    const user = await h.signUp();
    const other = await h.signUp();
    const auth = h.bearer(user.tokens.access_token);
    const newEmail = `moved-${crypto.randomUUID().slice(0, 8)}@example.com`;

    const without = await h.request("/api/v1/users/me", h.json("PUT", { email: newEmail }, auth));
    expect(without.status).toBe(403);
    expect(await codeOf(without)).toBe("INVALID_PASSWORD");
    const wrong = await h.request(
      "/api/v1/users/me",
      h.json("PUT", { email: newEmail, current_password: "nope" }, auth),
    );
    expect(wrong.status).toBe(403);
    const taken = await h.request(
      "/api/v1/users/me",
      h.json("PUT", { email: other.email, current_password: user.password }, auth),
    );
    expect(taken.status).toBe(409);
    expect(await codeOf(taken)).toBe("EMAIL_TAKEN");

    const moved = await h.request(
      "/api/v1/users/me",
      h.json("PUT", { email: newEmail.toUpperCase(), current_password: user.password }, auth),
    );
    expect(moved.status).toBe(200);
    expect(await moved.json()).toMatchObject({ email: newEmail, is_verified: false });
    expect(
      (await h.request("/api/v1/auth/login", h.json("POST", { email: newEmail, password: user.password }))).status,
    ).toBe(200);

    // A name needs no password, and null clears it.
    const named = await h.request("/api/v1/users/me", h.json("PUT", { name: "New Name" }, auth));
    expect(await named.json()).toMatchObject({ name: "New Name" });
    const cleared = await h.request("/api/v1/users/me", h.json("PUT", { name: null }, auth));
    expect(await cleared.json()).toMatchObject({ name: null });
  });

  it("refuses a reset token after its 30 minutes", async () => {
    const user = await h.signUp();
    expect((await h.request("/api/v1/auth/forgot-password", h.json("POST", { email: user.email }))).status).toBe(202);
    const redis = createRedis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
    const [mail] = await readOutbox({ redis, to: user.email });
    const token = mail?.text.match(/reset-password: (\S+)/)?.[1];
    await h.withDb((db) =>
      db
        .update(passwordResetTokens)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(passwordResetTokens.userId, user.id)),
    );
    const late = await h.request(
      "/api/v1/auth/reset-password",
      h.json("POST", { token, password: "a fresh unusual passphrase 1" }),
    );
    expect(late.status).toBe(400);
    expect(await codeOf(late)).toBe("INVALID_RESET_TOKEN");
    expect(
      (await h.request("/api/v1/auth/login", h.json("POST", { email: user.email, password: user.password }))).status,
    ).toBe(200);
  });

  it("refuses an unknown or malformed refresh token", async () => {
    const unknown = await h.request("/api/v1/auth/refresh", h.json("POST", { refresh_token: "rt_not-a-real-token" }));
    expect(unknown.status).toBe(401);
    expect(await codeOf(unknown)).toBe("INVALID_REFRESH_TOKEN");
    const empty = await h.request("/api/v1/auth/refresh", h.json("POST", { refresh_token: "" }));
    expect(empty.status).toBe(400);
  });
});
