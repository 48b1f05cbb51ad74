// Runs the API in `wrangler dev` with a given set of settings, for the browser tests and the benchmarks.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./dev-vars.mjs";
import { isPortOpen, probeJson, waitFor } from "./stack/util.mjs";

/**
 * Writes settings to `.wrangler/ape/<name>.env` (mode 600), the file handed to `wrangler dev --env-file`.
 * @param {string} name
 * @param {Record<string, string>} settings
 */
export const writeEnvFile = (name, settings) => {
  const dir = join(root, ".wrangler", "ape");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.env`);
  const text = Object.entries(settings)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join("\n");
  writeFileSync(file, text, { mode: 0o600 });
  return file;
};

/**
 * Starts `wrangler dev` on a port with the given settings and waits until /api/v1/health answers.
 * @param {{ name: string, port: number, inspectorPort: number, settings: Record<string, string> }} options
 * @returns {Promise<{ url: string, stop: () => void, group: number }>} `group`: the process group wrangler and its
 *   workerd run in (for benchmarks that read the runtime's memory).
 */
export const startWranglerDev = async ({ name, port, inspectorPort, settings }) => {
  if (await isPortOpen(port)) throw new Error(`port ${port} (wrangler dev for ${name}) is taken; stop what holds it`);
  const envFile = writeEnvFile(name, settings);
  // biome-ignore format: one flag and its value a pair reads better than one a line
  const args = [
    "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort),
    "--env-file", envFile, "--persist-to", join(root, ".wrangler", `${name}-state`),
    "--show-interactive-dev-session=false", "--log-level", "error",
  ];
  const child = spawn("wrangler", args, {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    detached: true,
  });
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  process.on("exit", stop);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`wrangler dev for ${name}`, async () => Boolean(await probeJson(`${url}/api/v1/health`)), 120_000);
  return { url, stop, group: child.pid };
};
