import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startRedisServer, stopRedisServer } from "../../scripts/stack/redis.mjs";

// The local stack's promises, with a real redis-server: reuse what runs, refuse a port someone else holds.
const dir = mkdtempSync(join(tmpdir(), "ape-stack-test-"));
afterAll(async () => {
  await stopRedisServer(dir);
  rmSync(dir, { recursive: true, force: true });
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });

describe("the local stack", () => {
  it("starts a Redis, then reuses it instead of starting a second", async () => {
    const port = await freePort();
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
