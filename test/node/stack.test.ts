import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stackConfig } from "../../scripts/stack/config.mjs";
import { startRedisServer, stopRedisServer } from "../../scripts/stack/redis.mjs";

// The local stack's promises, with a real redis-server: reuse what runs, refuse a port someone else holds.
const dir = mkdtempSync(join(tmpdir(), "ape-stack-test-"));
afterAll(async () => {
  await stopRedisServer(dir);
  rmSync(dir, { recursive: true, force: true });
});

// Not a port the OS just freed (listen(0), close, reuse): under load another process may be handed it between
// the close and Redis's start. This one is of the test slot's own range, below the ephemeral range.
const port = stackConfig("test").stackTestRedis.port;

const ephemeralRange = () => {
  const [low = 32768, high = 60999] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
    .trim()
    .split(/\s+/)
    .map(Number);
  return { low, high };
};

describe("the local stack", () => {
  it("tests on a port no other process can be handed", () => {
    const { low, high } = ephemeralRange();
    expect(port < low || port > high).toBe(true);
    const ports = stackConfig("test");
    const taken = [ports.postgres.port, ports.pgBridge.port, ports.redis.port, ports.upstashBridge.port];
    expect(taken).not.toContain(port);
  });

  it("starts a Redis, then reuses it instead of starting a second", async () => {
    const options = { port, dir, persistence: false, label: "stack test Redis" };
    expect((await startRedisServer(options)).reused).toBe(false);
    expect((await startRedisServer(options)).reused).toBe(true);
  });

  it("refuses, naming the port, when another program holds it", async () => {
    const stranger = createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => stranger.once("listening", resolve));
    const address = stranger.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const other = mkdtempSync(join(tmpdir(), "ape-stack-test-"));
    try {
      await expect(
        startRedisServer({ port, dir: other, persistence: false, label: "stack test Redis" }),
      ).rejects.toThrow(new RegExp(`port ${port} .*taken by another program`));
    } finally {
      stranger.close();
      rmSync(other, { recursive: true, force: true });
    }
  });
});
