import { beforeAll, describe, expect, it } from "vitest";
import { usageDaily } from "../../src/db/schema/index.js";
import type { UsageService } from "../../src/db/schema/usage-records.js";
import { checkEnv } from "../../src/env.js";
import { ApiError } from "../../src/lib/errors.js";
import { createLogger } from "../../src/lib/log.js";
import { createServiceContext } from "../../src/services/context.js";
import { assertWithinBudget } from "../../src/services/usage/budget.js";
import { recordUsage, type UsageEvent } from "../../src/services/usage/record-usage.js";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  // Each test signs up a user of its own: more than the per-address sign-up limit allows in a minute.
  h = await createHarness({ RATE_LIMIT_AUTH_PER_MINUTE: "1000000" });
});

type Sums = {
  requests: number;
  tokens_input: number;
  tokens_output: number;
  tokens_input_cached: number;
  cost_usd: number;
  cache_hits: number;
};
type Report = {
  from: string;
  to: string;
  group_by: string;
  groups: Array<Sums & { key: string; provider?: string }>;
  totals: Sums;
};

/** A day `offset` days from today (UTC), as `YYYY-MM-DD`. */
const dayFromToday = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

type DailyRow = {
  day: string;
  service?: UsageService;
  provider?: string;
  model?: string;
  requests: number;
  tokensInput: number;
  tokensOutput: number;
  tokensInputCached?: number;
  costUsd: string;
  cacheHits?: number;
};

/** Puts rollup rows in place, as a stretch of model calls would have left them. */
const seedDaily = (userId: string, rows: DailyRow[]) =>
  h.withDb((db) =>
    db.insert(usageDaily).values(
      rows.map((row) => ({
        userId,
        service: "chat" as const,
        provider: "groq",
        model: "llama-3.3-70b-versatile",
        cacheHits: 0,
        ...row,
      })),
    ),
  );

/** A service context on this harness's database and Redis, as the init middleware builds one per request. */
const withServiceContext = async <T>(
  work: (ctx: ReturnType<typeof createServiceContext>) => Promise<T>,
  settings: Record<string, string> = {},
) => {
  const check = checkEnv({ ...h.env, ...settings });
  if (!check.ok) throw new Error(check.problems.join("; "));
  const cleanups: Array<() => Promise<unknown>> = [];
  const ctx = createServiceContext({
    env: check.env,
    log: createLogger({ level: "error" }),
    requestId: "req_usage_report_test",
    client: { ip: null, userAgent: null },
    cleanup: (close) => cleanups.push(close),
    defer: () => {},
    audit: () => {},
  });
  try {
    return await work(ctx);
  } finally {
    await Promise.allSettled(cleanups.map((close) => close()));
  }
};

const report = async (token: string, query: string) => {
  const res = await h.request(`/api/v1/users/me/usage${query}`, { headers: h.bearer(token) });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Report;
};

describe("the usage report", () => {
  it("sums each day across services and models, ascending, with totals, only inside the range", async () => {
    const user = await h.signUp();
    await seedDaily(user.id, [
      { day: "2026-09-30", requests: 100, tokensInput: 1000, tokensOutput: 100, costUsd: "9.00000000" },
      { day: "2026-10-01", requests: 2, tokensInput: 300, tokensOutput: 40, costUsd: "0.00125000", cacheHits: 1 },
      {
        day: "2026-10-01",
        service: "research",
        provider: "openai",
        model: "gpt-4o-mini",
        requests: 3,
        tokensInput: 700,
        tokensOutput: 60,
        tokensInputCached: 200,
        costUsd: "0.01000001",
      },
      { day: "2026-10-03", requests: 1, tokensInput: 50, tokensOutput: 5, costUsd: "0.00000009" },
      { day: "2026-10-04", requests: 7, tokensInput: 7000, tokensOutput: 700, costUsd: "1.00000000" },
    ]);

    const byDay = await report(user.tokens.access_token, "?from=2026-10-01&to=2026-10-03");
    expect(byDay).toEqual({
      from: "2026-10-01",
      to: "2026-10-03",
      group_by: "day",
      groups: [
        {
          key: "2026-10-01",
          requests: 5,
          tokens_input: 1000,
          tokens_output: 100,
          tokens_input_cached: 200,
          cost_usd: 0.01125001,
          cache_hits: 1,
        },
        {
          key: "2026-10-03",
          requests: 1,
          tokens_input: 50,
          tokens_output: 5,
          tokens_input_cached: 0,
          cost_usd: 0.00000009,
          cache_hits: 0,
        },
      ],
      totals: {
        requests: 6,
        tokens_input: 1050,
        tokens_output: 105,
        tokens_input_cached: 200,
        cost_usd: 0.0112501,
        cache_hits: 1,
      },
    });

    // One day, both ends included.
    const oneDay = await report(user.tokens.access_token, "?from=2026-10-04&to=2026-10-04");
    expect(oneDay.groups.map((group) => group.key)).toEqual(["2026-10-04"]);
    expect(oneDay.totals.requests).toBe(7);
  });

  it("groups by model with its provider, most expensive first, and by service and provider", async () => {
    const user = await h.signUp();
    const day = "2026-08-10";
    await seedDaily(user.id, [
      { day, requests: 10, tokensInput: 1000, tokensOutput: 200, costUsd: "0.10000000" },
      { day: "2026-08-11", requests: 5, tokensInput: 500, tokensOutput: 100, costUsd: "0.05000000", cacheHits: 2 },
      {
        day,
        service: "code",
        provider: "openai",
        model: "gpt-4.1",
        requests: 2,
        tokensInput: 400,
        tokensOutput: 400,
        costUsd: "0.50000000",
      },
      // The same model id from another provider is a group of its own.
      {
        day,
        service: "extraction",
        provider: "bedrock",
        model: "llama-3.3-70b-versatile",
        requests: 1,
        tokensInput: 100,
        tokensOutput: 10,
        costUsd: "0.01000000",
      },
    ]);
    const range = "from=2026-08-01&to=2026-08-31";

    const byModel = await report(user.tokens.access_token, `?${range}&group_by=model`);
    expect(byModel.group_by).toBe("model");
    expect(byModel.groups).toEqual([
      {
        key: "gpt-4.1",
        provider: "openai",
        requests: 2,
        tokens_input: 400,
        tokens_output: 400,
        tokens_input_cached: 0,
        cost_usd: 0.5,
        cache_hits: 0,
      },
      {
        key: "llama-3.3-70b-versatile",
        provider: "groq",
        requests: 15,
        tokens_input: 1500,
        tokens_output: 300,
        tokens_input_cached: 0,
        cost_usd: 0.15,
        cache_hits: 2,
      },
      {
        key: "llama-3.3-70b-versatile",
        provider: "bedrock",
        requests: 1,
        tokens_input: 100,
        tokens_output: 10,
        tokens_input_cached: 0,
        cost_usd: 0.01,
        cache_hits: 0,
      },
    ]);
    expect(byModel.totals).toEqual({
      requests: 18,
      tokens_input: 2000,
      tokens_output: 710,
      tokens_input_cached: 0,
      cost_usd: 0.66,
      cache_hits: 2,
    });

    const byService = await report(user.tokens.access_token, `?${range}&group_by=service`);
    expect(byService.groups.map((group) => [group.key, group.requests])).toEqual([
      ["code", 2],
      ["chat", 15],
      ["extraction", 1],
    ]);
    expect(byService.groups.every((group) => group.provider === undefined)).toBe(true);

    const byProvider = await report(user.tokens.access_token, `?${range}&group_by=provider`);
    expect(byProvider.groups.map((group) => [group.key, group.cost_usd])).toEqual([
      ["openai", 0.5],
      ["groq", 0.15],
      ["bedrock", 0.01],
    ]);
    expect(byProvider.totals).toEqual(byModel.totals);
  });

  it("answers an empty range with no groups and zero totals", async () => {
    const user = await h.signUp();
    await seedDaily(user.id, [{ day: "2026-07-01", requests: 1, tokensInput: 1, tokensOutput: 1, costUsd: "0.1" }]);
    for (const groupBy of ["day", "model"]) {
      const empty = await report(user.tokens.access_token, `?from=2026-06-01&to=2026-06-30&group_by=${groupBy}`);
      expect(empty.groups).toEqual([]);
      expect(empty.totals).toEqual({
        requests: 0,
        tokens_input: 0,
        tokens_output: 0,
        tokens_input_cached: 0,
        cost_usd: 0,
        cache_hits: 0,
      });
    }
  });

  it("covers the last 30 days and today by default", async () => {
    const user = await h.signUp();
    await seedDaily(user.id, [
      { day: dayFromToday(0), requests: 1, tokensInput: 10, tokensOutput: 1, costUsd: "0.01" },
      { day: dayFromToday(-30), requests: 2, tokensInput: 20, tokensOutput: 2, costUsd: "0.02" },
      { day: dayFromToday(-31), requests: 4, tokensInput: 40, tokensOutput: 4, costUsd: "0.04" },
    ]);
    const usage = await report(user.tokens.access_token, "");
    expect(usage).toMatchObject({ from: dayFromToday(-30), to: dayFromToday(0), group_by: "day" });
    expect(usage.groups.map((group) => group.key)).toEqual([dayFromToday(-30), dayFromToday(0)]);
    expect(usage.totals.requests).toBe(3);
  });

  it("never shows another user's usage, and answers an API key with the read scope", async () => {
    const owner = await h.signUp();
    const other = await h.signUp();
    await seedDaily(owner.id, [{ day: "2026-05-05", requests: 9, tokensInput: 9, tokensOutput: 9, costUsd: "9" }]);
    await seedDaily(other.id, [{ day: "2026-05-05", requests: 1, tokensInput: 1, tokensOutput: 1, costUsd: "1" }]);
    const range = "?from=2026-05-01&to=2026-05-31&group_by=model";
    expect((await report(other.tokens.access_token, range)).totals).toMatchObject({ requests: 1, cost_usd: 1 });
    expect((await report(owner.tokens.access_token, range)).totals).toMatchObject({ requests: 9, cost_usd: 9 });

    const created = await h.request(
      "/api/v1/users/me/api-keys",
      h.json("POST", { name: "reports", scopes: ["read"] }, h.bearer(other.tokens.access_token)),
    );
    const { key } = (await created.json()) as { key: string };
    expect((await report(key, range)).totals.requests).toBe(1);
  });

  it("reports what recordUsage wrote, calls on one day and model summed into one group", async () => {
    const user = await h.signUp();
    const call = (at: string, overrides: Partial<UsageEvent> = {}): UsageEvent => ({
      userId: user.id,
      service: "chat",
      provider: "groq",
      model: "llama-3.3-70b-versatile",
      tokensInput: 120,
      tokensOutput: 30,
      costUsd: 0.0001,
      latencyMs: 420,
      ttftMs: 90,
      cached: false,
      requestId: `req_${crypto.randomUUID()}`,
      at: new Date(at),
      ...overrides,
    });
    await withServiceContext(async (ctx) => {
      await recordUsage({ ctx, event: call("2026-04-02T08:00:00Z", { tokensInputCached: 40 }) });
      await recordUsage({ ctx, event: call("2026-04-02T23:59:59Z", { cached: true, costUsd: 0 }) });
      await recordUsage({ ctx, event: call("2026-04-03T00:00:00Z", { provider: "openai", model: "gpt-4o-mini" }) });
    });
    const byDay = await report(user.tokens.access_token, "?from=2026-04-01&to=2026-04-30");
    expect(byDay.groups).toEqual([
      {
        key: "2026-04-02",
        requests: 2,
        tokens_input: 240,
        tokens_output: 60,
        tokens_input_cached: 40,
        cost_usd: 0.0001,
        cache_hits: 1,
      },
      {
        key: "2026-04-03",
        requests: 1,
        tokens_input: 120,
        tokens_output: 30,
        tokens_input_cached: 0,
        cost_usd: 0.0001,
        cache_hits: 0,
      },
    ]);
    expect(byDay.totals).toEqual({
      requests: 3,
      tokens_input: 360,
      tokens_output: 90,
      tokens_input_cached: 40,
      cost_usd: 0.0002,
      cache_hits: 1,
    });
  });

  it("includes every queued call in two reports asked at once (one waits for the other's flush)", async () => {
    const user = await h.signUp();
    const calls = 300;
    // Production batching: the calls wait in the outbox until a report (or the cron) writes them.
    await withServiceContext(
      async (ctx) => {
        for (let i = 0; i < calls; i++) {
          await recordUsage({
            ctx,
            event: {
              userId: user.id,
              service: "chat",
              provider: "groq",
              model: "llama-3.3-70b-versatile",
              tokensInput: 10,
              tokensOutput: 5,
              costUsd: 0,
              latencyMs: 100,
              ttftMs: 20,
              cached: false,
              requestId: `req_${crypto.randomUUID()}`,
              at: new Date("2026-05-02T08:00:00Z"),
            },
          });
        }
      },
      { USAGE_FLUSH_BATCH: "500", USAGE_FLUSH_SECONDS: "3600" },
    );
    const [first, second] = await Promise.all([
      report(user.tokens.access_token, "?from=2026-05-01&to=2026-05-31"),
      report(user.tokens.access_token, "?from=2026-05-01&to=2026-05-31"),
    ]);
    expect(first.totals.requests).toBe(calls);
    expect(second.totals.requests).toBe(calls);
  });

  it("answers bad ranges and groupings with 400 problem+json", async () => {
    const user = await h.signUp();
    const auth = h.bearer(user.tokens.access_token);
    const cases: Array<[string, string]> = [
      ["?from=2026-10-05&to=2026-10-04", "query.from"],
      ["?from=2025-01-01&to=2026-01-02", "query.from"],
      [`?from=${dayFromToday(1)}`, "query.from"],
      ["?from=2024-01-01", "query.from"],
      ["?from=2026-02-30&to=2026-03-01", "query.from"],
      ["?to=20261001", "query.to"],
      ["?group_by=week", "query.group_by"],
    ];
    for (const [query, path] of cases) {
      const problem = await readProblem(await h.request(`/api/v1/users/me/usage${query}`, { headers: auth }));
      expect(problem.status, query).toBe(400);
      expect(problem.contentType, query).toBe("application/problem+json");
      expect(problem.body.code, query).toBe("VALIDATION_FAILED");
      expect(problem.body.errors, query).toEqual([expect.objectContaining({ path })]);
      expect(problem.body.requestId, query).toBe(problem.requestIdHeader);
    }
    // 366 days, both ends included, is the most one report covers.
    const leapYear = await report(user.tokens.access_token, "?from=2024-01-01&to=2024-12-31");
    expect(leapYear.groups).toEqual([]);
    const tooLong = await readProblem(
      await h.request("/api/v1/users/me/usage?from=2024-01-01&to=2025-01-01", { headers: auth }),
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.detail).toMatch(/367 days; at most 366/);
  });
});

describe("the monthly budget", () => {
  type User = { monthly_budget_usd: number | null };

  it("starts at DEFAULT_MONTHLY_BUDGET_USD for a new account, when the operator sets one", async () => {
    const email = `budget-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const res = await h.request(
      "/api/v1/auth/register",
      h.json("POST", { email, password: `pw-${crypto.randomUUID()}` }),
      { DEFAULT_MONTHLY_BUDGET_USD: "7.5" },
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as { user: User; tokens: { access_token: string } };
    expect(body.user.monthly_budget_usd).toBe(7.5);
    const me = await h.request("/api/v1/users/me", { headers: h.bearer(body.tokens.access_token) });
    expect(((await me.json()) as User).monthly_budget_usd).toBe(7.5);
  });

  it("is set and removed with PUT /users/me, shows in GET /users/me, and takes effect at the next call", async () => {
    const user = await h.signUp();
    const auth = h.bearer(user.tokens.access_token);
    const me = async () => (await (await h.request("/api/v1/users/me", { headers: auth })).json()) as User;
    expect((await me()).monthly_budget_usd).toBeNull();

    const set = await h.request("/api/v1/users/me", h.json("PUT", { monthly_budget_usd: 12.5 }, auth));
    expect(set.status).toBe(200);
    expect(((await set.json()) as User).monthly_budget_usd).toBe(12.5);
    expect((await me()).monthly_budget_usd).toBe(12.5);

    // The budget check caches the budget; this month's spend passes it, so the next call is refused...
    await withServiceContext(async (ctx) => {
      await assertWithinBudget({ ctx, userId: user.id });
      await recordUsage({
        ctx,
        event: {
          userId: user.id,
          service: "chat",
          provider: "openai",
          model: "gpt-4.1",
          tokensInput: 1_000_000,
          tokensOutput: 1_000_000,
          costUsd: 13,
          latencyMs: 9000,
          ttftMs: 400,
          cached: false,
          requestId: "req_big_call",
        },
      });
      await expect(assertWithinBudget({ ctx, userId: user.id })).rejects.toMatchObject({
        code: "BUDGET_EXCEEDED",
      });
    });
    // ...until the budget is raised, which counts at once although the old one was cached.
    await h.request("/api/v1/users/me", h.json("PUT", { monthly_budget_usd: 20 }, auth));
    await withServiceContext((ctx) => assertWithinBudget({ ctx, userId: user.id }));
    await h.request("/api/v1/users/me", h.json("PUT", { monthly_budget_usd: 0 }, auth));
    expect((await me()).monthly_budget_usd).toBe(0);
    await withServiceContext(async (ctx) => {
      await expect(assertWithinBudget({ ctx, userId: user.id })).rejects.toBeInstanceOf(ApiError);
    });

    const cleared = await h.request("/api/v1/users/me", h.json("PUT", { monthly_budget_usd: null }, auth));
    expect(((await cleared.json()) as User).monthly_budget_usd).toBeNull();
    expect((await me()).monthly_budget_usd).toBeNull();
    await withServiceContext((ctx) => assertWithinBudget({ ctx, userId: user.id }));
  });

  it("refuses a negative budget, more than 2 decimals, and a string", async () => {
    const user = await h.signUp();
    const auth = h.bearer(user.tokens.access_token);
    await h.request("/api/v1/users/me", h.json("PUT", { monthly_budget_usd: 5 }, auth));
    for (const value of [-1, 10.005, "10"]) {
      const problem = await readProblem(
        await h.request("/api/v1/users/me", h.json("PUT", { monthly_budget_usd: value }, auth)),
      );
      expect(problem.status, String(value)).toBe(400);
      expect(problem.contentType).toBe("application/problem+json");
      expect(problem.body.errors, String(value)).toEqual([
        expect.objectContaining({ path: "body.monthly_budget_usd" }),
      ]);
    }
    // Two decimals that are not exact in binary are accepted as written.
    const cents = await h.request("/api/v1/users/me", h.json("PUT", { monthly_budget_usd: 19.99 }, auth));
    expect(((await cents.json()) as User).monthly_budget_usd).toBe(19.99);
  });
});
