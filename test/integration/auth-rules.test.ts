import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { users } from "../../src/db/schema/index.js";
import { hashPasswordPbkdf2 } from "../../src/services/auth/passwords.js";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";
import { spareRedis } from "../helpers/spare-redis.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

const codeOf = async (res: Response) => ((await res.json()) as { code: string }).code;

describe("registration rules", () => {
  it("names each bad field", async () => {
    const problem = await readProblem(
      await h.request("/api/v1/auth/register", h.json("POST", { email: "nope", password: "short" })),
    );
    expect(problem.status).toBe(400);
    expect(problem.body.code).toBe("VALIDATION_FAILED");
    const paths = (problem.body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(["body.email", "body.password"]);
  });

  it("refuses a password over 128 characters and a common one", async () => {
    const long = await h.request(
      "/api/v1/auth/register",
      h.json("POST", { email: "long@example.com", password: "x".repeat(129) }),
    );
    expect(long.status).toBe(400);
    const common = await h.request(
      "/api/v1/auth/register",
      h.json("POST", { email: "common@example.com", password: "password123" }),
    );
    expect(common.status).toBe(400);
    expect(await codeOf(common)).toBe("WEAK_PASSWORD");
  });
});

describe("signing in", () => {
  it("answers a wrong password and an unknown email alike", async () => {
    const user = await h.signUp();
    const wrong = await readProblem(
      await h.request("/api/v1/auth/login", h.json("POST", { email: user.email, password: "wrong-password" })),
    );
    const unknown = await readProblem(
      await h.request(
        "/api/v1/auth/login",
        h.json("POST", { email: `ghost-${crypto.randomUUID().slice(0, 8)}@example.com`, password: "wrong-password" }),
      ),
    );
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect({ ...wrong.body, requestId: "" }).toEqual({ ...unknown.body, requestId: "" });
  });

  it("locks an account after repeated failures, saying nothing about whether it exists", async () => {
    const user = await h.signUp();
    for (const email of [user.email, `nobody-${crypto.randomUUID().slice(0, 8)}@example.com`]) {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await h.request(
          "/api/v1/auth/login",
          h.json("POST", { email, password: `guess-${i}` }, { "cf-connecting-ip": `192.0.2.${i + 10}` }),
        );
        statuses.push(res.status);
        await res.body?.cancel();
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    }
    // Locked means locked: the right password waits too.
    const right = await h.request(
      "/api/v1/auth/login",
      h.json("POST", { email: user.email, password: user.password }, { "cf-connecting-ip": "192.0.2.99" }),
    );
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("rate limits", () => {
  it("sends RateLimit-Policy and RateLimit headers on success, and 429 with Retry-After past the limit", async () => {
    const user = await h.signUp();
    const ok = await h.request("/api/v1/users/me", { headers: h.bearer(user.tokens.access_token) });
    expect(ok.headers.get("ratelimit-policy")).toBe('"account";q=300;w=60');
    expect(ok.headers.get("ratelimit")).toMatch(/^"account";r=\d+;t=\d+$/);
    const tight = { RATE_LIMIT_ACCOUNT_PER_MINUTE: "2" };
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const res = await h.request("/api/v1/users/me", { headers: h.bearer(user.tokens.access_token) }, tight);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get("content-type")).toBe("application/problem+json");
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(await codeOf(res)).toBe("RATE_LIMITED");
      } else await res.body?.cancel();
    }
    expect(statuses.at(-1)).toBe(429);
  });

  it("fails closed for auth routes and open for the rest while Redis is down", async () => {
    const user = await h.signUp();
    const keyRes = await h.request(
      "/api/v1/users/me/api-keys",
      h.json("POST", { name: "k", scopes: ["read"] }, h.bearer(user.tokens.access_token)),
    );
    const { key } = (await keyRes.json()) as { key: string };
    const spare = await spareRedis("auth-rules");
    const onSpare = spare.env;
    await spare.stop();
    try {
      const login = await h.request(
        "/api/v1/auth/login",
        h.json("POST", { email: user.email, password: user.password }),
        onSpare,
      );
      expect(login.status).toBe(503);
      expect(await codeOf(login)).toBe("RATE_LIMIT_UNAVAILABLE");
      // An API key needs no session store; its rate limit lets it through and logs the outage.
      const me = await h.request("/api/v1/users/me", { headers: h.bearer(key) }, onSpare);
      expect(me.status).toBe(200);
      // An access token cannot be checked against its session without Redis, so it is refused, not trusted.
      const jwt = await h.request("/api/v1/users/me", { headers: h.bearer(user.tokens.access_token) }, onSpare);
      expect(jwt.status).toBe(503);
    } finally {
      await spare.start();
    }
  });
});

describe("stored password hashes", () => {
  it("replaces an old PBKDF2 hash with argon2id at the next login", async () => {
    await h.withDb(async (db) => {
      const email = `legacy-${crypto.randomUUID().slice(0, 8)}@example.com`;
      await db.insert(users).values({ email, passwordHash: await hashPasswordPbkdf2("an old but fine passphrase") });
      const login = await h.request(
        "/api/v1/auth/login",
        h.json("POST", { email, password: "an old but fine passphrase" }),
      );
      expect(login.status).toBe(200);
      const [row] = await db.select({ hash: users.passwordHash }).from(users).where(eq(users.email, email));
      expect(row?.hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    });
  });
});
