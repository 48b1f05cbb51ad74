import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { auditLogs } from "../../src/db/schema/index.js";
import { sha256Hex } from "../../src/lib/crypto.js";
import { createHarness, type Harness } from "../helpers/harness.js";

// Guessing credentials, as an attacker floods them: many requests at once, so a limit that checks before it
// counts would let every one of them through.

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

const freshIp = () => {
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
  return `10.${a}.${b}.${c}`;
};
const madeUpKey = () => `ape_${crypto.randomUUID().replaceAll("-", "")}${crypto.randomUUID().replaceAll("-", "")}`;
// A database that does not exist: a request that needs Postgres fails, one that needs none is unaffected.
const noDatabase = () => ({ DATABASE_URL: h.databaseUrl.replace(/\/[^/?]+(\?|$)/, "/ape_no_such_database$1") });

const listDocuments = (headers: Record<string, string>, env: Record<string, unknown> = {}) =>
  h.request("/api/v1/documents", { headers }, env);

describe("bad credentials per IP", () => {
  it("answers a flood of made-up API keys from one address with 429 and Retry-After past the limit", async () => {
    const ip = freshIp();
    const env = { RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "20" };
    const answers = await Promise.all(
      Array.from({ length: 150 }, () => listDocuments({ "x-api-key": madeUpKey(), "cf-connecting-ip": ip }, env)),
    );
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    const refused = answers.filter((res) => res.status === 429);
    // The count is per minute: a flood that spans the turn of a minute may get up to twice the limit looked at.
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(40);
    expect(refused.length).toBeGreaterThanOrEqual(110);
    for (const res of refused) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);

    // Forged access tokens from a second address count the same way.
    const other = freshIp();
    const forged = await Promise.all(
      Array.from({ length: 60 }, () =>
        listDocuments({ authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.forged", "cf-connecting-ip": other }, env),
      ),
    );
    expect(forged.filter((res) => res.status === 429).length).toBeGreaterThanOrEqual(20);
  });

  it("refuses past the limit before any database work: with Postgres gone, the 429s still come", async () => {
    const ip = freshIp();
    const env = { ...noDatabase(), RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "5" };
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => listDocuments({ "x-api-key": madeUpKey(), "cf-connecting-ip": ip }, env)),
    );
    const statuses = answers.map((res) => res.status);
    // Only the keys that took a place in the count were looked up, and each of those failed on the database.
    const lookedUp = statuses.filter((status) => status !== 429);
    expect(lookedUp.length).toBeLessThanOrEqual(10);
    expect(lookedUp.every((status) => status >= 500)).toBe(true);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(30);
  });

  it("remembers an unknown key as unknown, so sending it again costs no query", async () => {
    const ip = freshIp();
    const key = madeUpKey();
    expect((await listDocuments({ "x-api-key": key, "cf-connecting-ip": ip })).status).toBe(401);
    expect((await listDocuments({ "x-api-key": key, "cf-connecting-ip": ip }, noDatabase())).status).toBe(401);
  });

  it("lets a good key through, from an address that also sent bad ones", async () => {
    const user = await h.signUp();
    const created = await h.request(
      "/api/v1/users/me/api-keys",
      h.json("POST", { name: "ci", scopes: ["read"] }, h.bearer(user.tokens.access_token)),
    );
    const { key } = (await created.json()) as { key: string };
    const ip = freshIp();
    const env = { RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "5" };
    for (let i = 0; i < 4; i++) await listDocuments({ "x-api-key": madeUpKey(), "cf-connecting-ip": ip }, env);
    for (let i = 0; i < 5; i++) {
      expect((await listDocuments({ "x-api-key": key, "cf-connecting-ip": ip }, env)).status).toBe(200);
    }
  });
});

describe("login lockout", () => {
  it("checks at most 5 of 20 concurrent wrong passwords for one account, and answers the rest 429", async () => {
    const user = await h.signUp();
    // From twenty addresses, so only the account's own lockout stands between them and the password check.
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        h.request(
          "/api/v1/auth/login",
          h.json("POST", { email: user.email, password: "not-the-password" }, { "cf-connecting-ip": freshIp() }),
        ),
      ),
    );
    const statuses = answers.map((res) => res.status);
    const checked = statuses.filter((status) => status === 401).length;
    expect(checked).toBeLessThanOrEqual(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20 - checked);
    // Each password check that failed left its audit entry: no more than five were made.
    const failures = await h.withDb((db) =>
      db
        .select()
        .from(auditLogs)
        .where(and(eq(auditLogs.userId, user.id), eq(auditLogs.action, "auth.login_failed"))),
    );
    expect(failures).toHaveLength(checked);
  });

  it("does not count good passwords against the account", async () => {
    const user = await h.signUp();
    for (let i = 0; i < 7; i++) {
      const res = await h.request(
        "/api/v1/auth/login",
        h.json("POST", { email: user.email, password: user.password }, { "cf-connecting-ip": freshIp() }),
      );
      expect(res.status).toBe(200);
    }
  });
});

describe("the log of a failed lookup", () => {
  it("names the query that failed but not the key's hash bound to it", async () => {
    const key = madeUpKey();
    const lines: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(String(line)));
    let status: number;
    try {
      status = (await listDocuments({ "x-api-key": key, "cf-connecting-ip": freshIp() }, noDatabase())).status;
    } finally {
      spy.mockRestore();
    }
    expect(status).toBe(500);
    const logged = lines.join("\n");
    expect(logged).toContain("Failed query: select");
    expect(logged).not.toContain(await sha256Hex(key));
  });
});
