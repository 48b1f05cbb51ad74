/**
 * A real Redis of a test's own (with its own Upstash bridge) that the test may stop and start, to see how APE
 * behaves while Redis is down. Served by the control server in global-setup.ts.
 */
import { inject } from "vitest";

export const spareRedis = async (name: string) => {
  const control = `${inject("spareRedisControl")}/spare/${encodeURIComponent(name)}`;
  const call = async (action: string) => {
    const res = await fetch(`${control}/${action}`, { method: "POST" });
    if (!res.ok) throw new Error(`spare Redis ${name} ${action}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { url: string; token: string };
  };
  const { url, token } = await call("ensure");
  return {
    /** Settings that point a request at this Redis. */
    env: { UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token },
    stop: () => call("stop"),
    start: () => call("start"),
  };
};
