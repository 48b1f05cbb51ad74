import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLogs } from "../../src/db/schema/index.js";
import { createApp } from "../../src/lib/app.js";
import { requireAuth } from "../../src/middleware/auth.js";
import { init } from "../../src/middleware/init.js";
import { installProblemHandling } from "../../src/middleware/problems.js";
import { requestId } from "../../src/middleware/request-id.js";
import { createHarness, type Harness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

type KeyList = { items: { id: string; last_used_at: string | null; scopes: string[] }[]; next_cursor: string | null };

describe("API keys", () => {
  it("refuses an expired key at once, and an expiry in the past when creating", async () => {
    const user = await h.signUp();
    const past = await h.request(
      "/api/v1/users/me/api-keys",
      h.json(
        "POST",
        { name: "old", scopes: ["read"], expires_at: "2020-01-01T00:00:00Z" },
        h.bearer(user.tokens.access_token),
      ),
    );
    expect(past.status).toBe(400);
    // Room enough for the key's creation and first use on a loaded machine; then the wait is for the expiry
    // itself, not a fixed sleep that a slow first use could eat into.
    const expiresAt = Date.now() + 3_000;
    const created = await h.request(
      "/api/v1/users/me/api-keys",
      h.json(
        "POST",
        { name: "soon", scopes: ["read"], expires_at: new Date(expiresAt).toISOString() },
        h.bearer(user.tokens.access_token),
      ),
    );
    const key = (await created.json()) as { id: string; key: string };
    // The first use also puts the key's lookup in the cache, which must not outlive the expiry.
    expect((await h.request("/api/v1/users/me", { headers: h.bearer(key.key) })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt + 100 - Date.now())));
    const expired = await h.request("/api/v1/users/me", { headers: h.bearer(key.key) });
    expect(expired.status).toBe(401);
  });

  it("records when a key was last used, at most once a minute", async () => {
    const user = await h.signUp();
    const created = await h.request(
      "/api/v1/users/me/api-keys",
      h.json("POST", { name: "k", scopes: ["read"] }, h.bearer(user.tokens.access_token)),
    );
    const key = (await created.json()) as { id: string; key: string };
    const list = async () =>
      (
        (await (
          await h.request("/api/v1/users/me/api-keys", { headers: h.bearer(user.tokens.access_token) })
        ).json()) as KeyList
      ).items;
    expect((await list())[0]?.last_used_at).toBeNull();
    await h.request("/api/v1/users/me", { headers: { "x-api-key": key.key } });
    const first = (await list())[0]?.last_used_at;
    expect(first).not.toBeNull();
    await h.request("/api/v1/users/me", { headers: { "x-api-key": key.key } });
    expect((await list())[0]?.last_used_at).toBe(first);
  });

  it("pages through keys newest first", async () => {
    const user = await h.signUp();
    for (const name of ["a", "b", "c"]) {
      await h.request(
        "/api/v1/users/me/api-keys",
        h.json("POST", { name, scopes: ["code"] }, h.bearer(user.tokens.access_token)),
      );
    }
    const page1 = (await (
      await h.request("/api/v1/users/me/api-keys?limit=2", { headers: h.bearer(user.tokens.access_token) })
    ).json()) as KeyList;
    expect(page1.items).toHaveLength(2);
    expect(page1.next_cursor).toEqual(expect.any(String));
    const page2 = (await (
      await h.request(`/api/v1/users/me/api-keys?limit=2&cursor=${page1.next_cursor}`, {
        headers: h.bearer(user.tokens.access_token),
      })
    ).json()) as KeyList;
    expect(page2.items).toHaveLength(1);
    expect(page2.next_cursor).toBeNull();
    const ids = [...page1.items, ...page2.items].map((k) => k.id);
    expect(new Set(ids).size).toBe(3);
    expect([...ids].sort().reverse()).toEqual(ids);
  });
});

describe("the audit trail", () => {
  type AuditList = {
    items: { action: string; ip_address: string | null; request_id: string | null; user_agent: string | null }[];
    next_cursor: string | null;
  };

  it("records who, from where and in which request, filters by action, and pages", async () => {
    const user = await h.signUp();
    const renamed = await h.request(
      "/api/v1/users/me",
      h.json(
        "PUT",
        { name: "Renamed" },
        {
          ...h.bearer(user.tokens.access_token),
          "user-agent": "audit-test/1.0",
          "x-request-id": "audit-test-request-1",
        },
      ),
    );
    expect(renamed.status).toBe(200);
    const read = async (query: string) =>
      (await (
        await h.request(`/api/v1/users/me/audit${query}`, { headers: h.bearer(user.tokens.access_token) })
      ).json()) as AuditList;
    await expect.poll(async () => (await read("?action=user.update")).items.length).toBe(1);
    const [entry] = (await read("?action=user.update")).items;
    expect(entry).toMatchObject({
      action: "user.update",
      ip_address: h.ip,
      request_id: "audit-test-request-1",
      user_agent: "audit-test/1.0",
    });

    const all = await read("?limit=1");
    expect(all.items).toHaveLength(1);
    expect(all.next_cursor).toEqual(expect.any(String));
    const future = await read(`?from=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`);
    expect(future.items).toEqual([]);
  });

  it("audits a successful state-changing request of any route, with no call in the route itself", async () => {
    // A route as a later module would add it: authenticated, changing state, saying nothing to the audit log.
    const app = createApp();
    app.use("*", requestId(), init());
    app.post("/api/v1/widgets/:id/polish", requireAuth("code"), (c) => c.json({ polished: true }, 200));
    installProblemHandling(app);
    const user = await h.signUp();
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request("http://ape.test/api/v1/widgets/w1/polish", {
        method: "POST",
        headers: h.bearer(user.tokens.access_token),
      }),
      h.env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    const rows = await h.withDb((db) => db.select().from(auditLogs).where(eq(auditLogs.userId, user.id)));
    expect(rows.map((row) => row.action)).toContain("post /api/v1/widgets/:id/polish");
    expect(rows.find((row) => row.action.startsWith("post "))?.details).toEqual({ path: "/api/v1/widgets/w1/polish" });
  });
});
