// Where each piece of the local stack lives. Two profiles that never share a port, a data folder or a
// database: `dev` (npm start) and `test` (npm test), so running the suite never touches your dev data.
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** @typedef {"dev" | "test"} Profile */

/**
 * Ports and folders of one profile.
 * @param {Profile} profile
 */
export const stackConfig = (profile) => {
  // APE_STACK_SLOT (0-7, default 0) moves the test profile to ports and a folder of its own, so two checkouts
  // (two branches worked on side by side) can each run `npm test` without sharing a database or a port.
  const slot = profile === "test" ? stackSlot() : 0;
  // Below Linux's ephemeral range (32768-60999), so an outgoing connection can never hold one of our
  // ports while a service restarts.
  const base = (profile === "dev" ? 25300 : 25400) + slot * 1000;
  // The state folder sits under the system temp dir (world-traversable), because Postgres runs as an
  // unprivileged user when we are root and must reach its data folder; a checkout under /root or a
  // mktemp folder (mode 700) would not be reachable.
  const stateDir = join(tmpdir(), `ape-stack-${profile}${slot ? `-${slot}` : ""}`);
  return {
    profile,
    stateDir,
    postgres: {
      port: base + 32,
      dataDir: join(stateDir, "pgdata"),
      user: "ape",
      password: `ape-local-${profile}`,
      database: profile === "dev" ? "ape_dev" : "ape_test",
    },
    redis: { port: base + 79, persistence: profile === "dev", dataDir: join(stateDir, "redis") },
    pgBridge: { port: base + 33 },
    upstashBridge: {
      port: base + 80,
      // A local-only token: the bridge listens on loopback only, and the value is derived, not secret.
      token: `local-${createHash("sha256").update(`ape-${profile}`).digest("hex").slice(0, 32)}`,
    },
    // A Redis port for test/node/stack.test.ts to start and stop a Redis on: of this slot's range, below the
    // ephemeral one, so no other process is ever handed it (a port the OS just freed may be, under load).
    stackTestRedis: { port: base + 129 },
    api: { port: (profile === "dev" ? 8787 : 8797) + slot * 10, inspectorPort: 9339 + slot },
    web: { port: (profile === "dev" ? 8788 : 8798) + slot * 10 },
  };
};

export const stackSlot = () => {
  const raw = process.env.APE_STACK_SLOT ?? "0";
  const slot = Number(raw);
  if (!Number.isInteger(slot) || slot < 0 || slot > 7) throw new Error(`APE_STACK_SLOT must be 0-7, not ${raw}`);
  return slot;
};

/**
 * The connection string the Worker uses: it names the WebSocket bridge's port, since the Worker reaches
 * Postgres the way it reaches Neon, over a WebSocket; the bridge forwards to the real Postgres.
 * @param {ReturnType<typeof stackConfig>} cfg
 */
export const workerDatabaseUrl = (cfg) =>
  `postgres://${cfg.postgres.user}:${cfg.postgres.password}@127.0.0.1:${cfg.pgBridge.port}/${cfg.postgres.database}`;

/**
 * The direct connection string (Node tools: migrations, test harness).
 * @param {ReturnType<typeof stackConfig>} cfg
 */
export const directDatabaseUrl = (cfg) =>
  `postgres://${cfg.postgres.user}:${cfg.postgres.password}@127.0.0.1:${cfg.postgres.port}/${cfg.postgres.database}`;
