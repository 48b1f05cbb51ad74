import { beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";
import { spareRedis } from "../helpers/spare-redis.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

describe("GET /api/v1/health", () => {
  it("answers ok without touching any dependency", async () => {
    const res = await h.request("/api/v1/health", {}, { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok" });
  });
});

describe("GET /api/v1/health/ready", () => {
  it("is 200 with every dependency up, and lists the LLM providers", async () => {
    const res = await h.request("/api/v1/health/ready");
    const body = (await res.json()) as {
      status: string;
      checks: Record<string, { status: string }>;
      providers: { id: string; configured: boolean }[];
    };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe("ready");
    for (const dependency of ["postgres", "redis", "r2", "queues"]) {
      expect(body.checks[dependency]?.status, dependency).toBe("up");
    }
    expect(body.providers.map((p) => p.id)).toEqual(["groq", "bedrock", "openai", "compat"]);
    expect(body.providers.every((p) => p.configured === false)).toBe(true);
  });

  it("says which provider is configured once its settings are present", async () => {
    const res = await h.request("/api/v1/health/ready", {}, { GROQ_API_KEY: "gsk_test" });
    const body = (await res.json()) as { providers: { id: string; configured: boolean }[] };
    expect(body.providers.find((p) => p.id === "groq")?.configured).toBe(true);
    expect(body.providers.find((p) => p.id === "openai")?.configured).toBe(false);
  });

  it("is 503 naming Redis when the Redis behind it is stopped, and 200 again once it is back", async () => {
    const spare = await spareRedis("health");
    // Checked afresh each time: this test watches readiness change.
    const onSpare = { ...spare.env, HEALTH_READY_CACHE_SECONDS: "0" };
    expect((await h.request("/api/v1/health/ready", {}, onSpare)).status).toBe(200);

    await spare.stop();
    try {
      const down = await readProblem(await h.request("/api/v1/health/ready", {}, onSpare));
      expect(down.status).toBe(503);
      expect(down.contentType).toBe("application/problem+json");
      expect(down.body.code).toBe("NOT_READY");
      expect(down.body.down).toEqual(["redis"]);
      expect(down.body.detail).toContain("redis");
      expect((down.body.checks as Record<string, { status: string }>).postgres?.status).toBe("up");
    } finally {
      await spare.start();
    }
    // The bridge reconnects on its own; readiness follows within a few seconds.
    await expect
      .poll(async () => (await h.request("/api/v1/health/ready", {}, onSpare)).status, {
        timeout: 15_000,
        interval: 250,
      })
      .toBe(200);
  });

  it("is 503 naming Postgres when Postgres cannot be reached", async () => {
    const down = await readProblem(
      await h.request("/api/v1/health/ready", {}, { DATABASE_URL: "postgres://ape:x@127.0.0.1:9/none" }),
    );
    expect(down.status).toBe(503);
    expect(down.body.down).toEqual(["postgres"]);
    expect(JSON.stringify(down.body)).not.toContain("ape:x");
  });

  it("answers a flood from its last result for a few seconds, probing nothing in the meantime", async () => {
    const spare = await spareRedis("health-cache");
    const onSpare = { ...spare.env, HEALTH_READY_CACHE_SECONDS: "60" };
    const first = await h.request("/api/v1/health/ready", {}, onSpare);
    expect(first.status).toBe(200);
    const checked = ((await first.json()) as { checks: unknown }).checks;
    await spare.stop();
    try {
      // Redis is gone, yet 20 probes at once answer the result of a minute ago: none of them probed it.
      const flood = await Promise.all(Array.from({ length: 20 }, () => h.request("/api/v1/health/ready", {}, onSpare)));
      for (const res of flood) {
        expect(res.status).toBe(200);
        expect(((await res.json()) as { checks: unknown }).checks).toEqual(checked);
      }
    } finally {
      await spare.start();
    }
  });

  it("limits each IP, answering 429 with Retry-After past the limit", async () => {
    const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
    const ip = `10.${a}.${b}.${c}`;
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        h.request(
          "/api/v1/health/ready",
          { headers: { "cf-connecting-ip": ip } },
          { RATE_LIMIT_HEALTH_PER_MINUTE: "10" },
        ),
      ),
    );
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    const refused = answers.filter((res) => res.status === 429);
    expect(refused).toHaveLength(20);
    for (const res of refused) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
