import { env } from "cloudflare:test";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis/cloudflare";
import { describe, expect, it } from "vitest";

// The local stack's Upstash REST bridge, driven by the official clients exactly as production drives Upstash.
const redis = new Redis({
  url: env.UPSTASH_REDIS_REST_URL,
  token: env.UPSTASH_REDIS_REST_TOKEN,
  enableTelemetry: false,
});
const key = (name: string) => `test:${crypto.randomUUID()}:${name}`;

describe("the Upstash REST bridge through @upstash/redis", () => {
  it("runs single commands with strings, numbers, JSON and unicode", async () => {
    const k = key("s");
    expect(await redis.set(k, "héllo ✓ 世界")).toBe("OK");
    expect(await redis.get(k)).toBe("héllo ✓ 世界");
    await redis.set(k, { a: 1, list: [1, "two"] });
    expect(await redis.get(k)).toEqual({ a: 1, list: [1, "two"] });
    expect(await redis.incrby(key("n"), 5)).toBe(5);
    expect(await redis.get(key("missing"))).toBeNull();
    const h = key("h");
    await redis.hset(h, { name: "ada", age: 36 });
    expect(await redis.hgetall(h)).toEqual({ name: "ada", age: 36 });
    await redis.set(k, "x", { ex: 60 });
    expect(await redis.ttl(k)).toBeGreaterThan(50);
  });

  it("runs a pipeline and a transaction", async () => {
    const k = key("p");
    const results = await redis.pipeline().set(k, "1").incr(k).get(k).exec();
    expect(results).toEqual(["OK", 2, 2]);
    const tx = await redis.multi().set(k, "a").append(k, "b").get(k).exec();
    expect(tx).toEqual(["OK", 2, "ab"]);
  });

  it("reports a command error in Upstash's shape", async () => {
    const k = key("e");
    await redis.set(k, "text");
    await expect(redis.incr(k)).rejects.toThrow(/not an integer/);
  });

  it("runs EVAL, EVALSHA and SCRIPT LOAD", async () => {
    const script = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
    const k = key("lua");
    expect(await redis.eval(script, [k], ["3"])).toBe(3);
    const sha = await redis.scriptLoad(script);
    expect(await redis.evalsha(sha, [k], ["4"])).toBe(7);
    await expect(redis.evalsha("0".repeat(40), [k], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it("refuses a wrong token with 401", async () => {
    const res = await fetch(env.UPSTASH_REDIS_REST_URL, {
      method: "POST",
      headers: { authorization: "Bearer wrong" },
      body: JSON.stringify(["PING"]),
    });
    expect(res.status).toBe(401);
    const wrong = new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: "wrong", enableTelemetry: false, retry: false });
    await expect(wrong.ping()).rejects.toThrow();
  });

  it("base64-encodes results when asked, as Upstash does", async () => {
    const k = key("b64");
    await redis.set(k, "héllo");
    const res = await fetch(env.UPSTASH_REDIS_REST_URL, {
      method: "POST",
      headers: { authorization: `Bearer ${env.UPSTASH_REDIS_REST_TOKEN}`, "upstash-encoding": "base64" },
      body: JSON.stringify(["GET", k]),
    });
    const body = (await res.json()) as { result: string };
    expect(new TextDecoder().decode(Uint8Array.from(atob(body.result), (c) => c.charCodeAt(0)))).toBe("héllo");
  });

  it("carries @upstash/ratelimit: the request over the limit is refused", async () => {
    const limiter = new Ratelimit({ redis, limiter: Ratelimit.slidingWindow(3, "10 s"), prefix: key("rl") });
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push((await limiter.limit("user-1")).success);
    expect(outcomes).toEqual([true, true, true, false]);
    const fixed = new Ratelimit({ redis, limiter: Ratelimit.fixedWindow(1, "10 s"), prefix: key("fw") });
    expect((await fixed.limit("u")).success).toBe(true);
    const second = await fixed.limit("u");
    expect(second.success).toBe(false);
    expect(second.remaining).toBe(0);
  });
});
