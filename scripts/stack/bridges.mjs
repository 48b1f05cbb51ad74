// Runs the two bridges as background Node processes: the Upstash REST bridge in front of Redis, and the
// WebSocket bridge in front of Postgres. Each answers GET /__ape/health, which tells ours from a stranger.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isPortOpen, pidAlive, probeJson, readPid, spawnDetached, waitFor } from "./util.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));

const ensureBridge = async ({ name, port, script, args, stateDir }) => {
  const health = `http://127.0.0.1:${port}/__ape/health`;
  if (await probeJson(health)) return { reused: true };
  if (await isPortOpen(port)) {
    throw new Error(`port ${port} (${name}) is taken by another program. Stop it, or run \`npm run stop\`.`);
  }
  spawnDetached(process.execPath, [join(here, script), ...args], {
    logFile: join(stateDir, `${name}.log`),
    pidFile: join(stateDir, `${name}.pid`),
  });
  await waitFor(name, async () => Boolean(await probeJson(health)));
  return { reused: false };
};

/** Starts (or reuses) both bridges of a profile. */
export const ensureBridges = async (cfg) => {
  await ensureBridge({
    name: "upstash-bridge",
    port: cfg.upstashBridge.port,
    script: "upstash-bridge.mjs",
    args: [
      "--port",
      String(cfg.upstashBridge.port),
      "--redis",
      `redis://127.0.0.1:${cfg.redis.port}`,
      "--token",
      cfg.upstashBridge.token,
    ],
    stateDir: cfg.stateDir,
  });
  await ensureBridge({
    name: "pg-ws-bridge",
    port: cfg.pgBridge.port,
    script: "pg-ws-bridge.mjs",
    args: ["--port", String(cfg.pgBridge.port), "--target", `127.0.0.1:${cfg.postgres.port}`],
    stateDir: cfg.stateDir,
  });
};

/** Stops the bridges a profile started. */
export const stopBridges = async (cfg) => {
  let stopped = 0;
  for (const name of ["upstash-bridge", "pg-ws-bridge"]) {
    const pid = readPid(join(cfg.stateDir, `${name}.pid`));
    if (pid && pidAlive(pid)) {
      process.kill(pid, "SIGTERM");
      await waitFor(`${name} to stop`, async () => !pidAlive(pid), 5_000).catch(() => process.kill(pid, "SIGKILL"));
      stopped += 1;
    }
  }
  return stopped;
};
