// The stack's own redis-server from Debian: loopback only, one per profile; the test one keeps nothing on disk.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { aptInstall, ensureDir, isPortOpen, pidAlive, readPid, run, waitFor } from "./util.mjs";

const findRedisServer = () =>
  ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find((path) => existsSync(path)) ?? null;

/**
 * Starts a redis-server on `port` (or reuses ours), with its pid file and log in `dir`.
 * @param {{ port: number, dir: string, persistence: boolean, label: string }} options
 */
export const startRedisServer = async ({ port, dir, persistence, label }) => {
  let bin = findRedisServer();
  if (!bin) {
    aptInstall(["redis-server"]);
    bin = findRedisServer();
    if (!bin) throw new Error("redis-server was installed but not found");
  }
  ensureDir(dir);
  const pidFile = join(dir, "redis.pid");
  const pid = readPid(pidFile);
  if (pid && pidAlive(pid) && (await isPortOpen(port))) return { reused: true, pidFile };
  if (await isPortOpen(port)) {
    throw new Error(`port ${port} (${label}) is taken by another program. Stop it, or run \`npm run stop\`.`);
  }
  const durability = persistence ? ["--appendonly", "yes", "--save", "300 10"] : ["--appendonly", "no", "--save", ""];
  run(bin, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--protected-mode",
    "yes",
    "--daemonize",
    "yes",
    "--pidfile",
    pidFile,
    "--logfile",
    join(dir, "redis.log"),
    "--dir",
    dir,
    ...durability,
  ]);
  await waitFor(label, () => isPortOpen(port));
  return { reused: false, pidFile };
};

/** Stops the redis-server whose pid file is in `dir`. */
export const stopRedisServer = async (dir) => {
  const pid = readPid(join(dir, "redis.pid"));
  if (!pid || !pidAlive(pid)) return false;
  process.kill(pid, "SIGTERM");
  await waitFor("redis to stop", async () => !pidAlive(pid), 10_000);
  return true;
};

/** Starts (or reuses) the profile's Redis. */
export const ensureRedis = (cfg) =>
  startRedisServer({
    port: cfg.redis.port,
    dir: cfg.redis.dataDir,
    persistence: cfg.redis.persistence,
    label: `Redis for the ${cfg.profile} stack on :${cfg.redis.port}`,
  });
