// `npm start`: the local stack (Postgres, Redis, bridges), migrations, then the API in `wrangler dev` on :8787
// and the web UI on :8788. Run it again while it runs and it says so; `npm run stop` ends everything.
import { join } from "node:path";
import { signalGroup, spawnGroup, writeAppState } from "./app-processes.mjs";
import { effectiveSettings, ensureDevVars, root } from "./dev-vars.mjs";
import { applyMigrations } from "./migrate.mjs";
import { stackConfig } from "./stack/config.mjs";
import { stackUp } from "./stack/index.mjs";
import { isPortOpen, probeJson, waitFor } from "./stack/util.mjs";
import { writeEnvFile } from "./wrangler-dev.mjs";

const cfg = stackConfig("dev");
const apiUrl = `http://127.0.0.1:${cfg.api.port}`;
const webUrl = `http://127.0.0.1:${cfg.web.port}`;

const fail = (message) => {
  console.error(`\n[start] ${message}`);
  process.exit(1);
};

const running = await probeJson(`${apiUrl}/api/v1/health`);
if (running?.status === "ok") {
  console.log(`APE is already running: API ${apiUrl}/api/v1, web UI ${webUrl}. Stop it with \`npm run stop\`.`);
  process.exit(0);
}
for (const [name, port] of [
  ["API", cfg.api.port],
  ["web UI", cfg.web.port],
]) {
  if (await isPortOpen(port)) fail(`port ${port} (the ${name}) is taken by another program; stop it and try again.`);
}

console.log("[start] local stack: Postgres, Redis and their bridges…");
const stack = await stackUp("dev").catch((error) => fail(error.message));
if (ensureDevVars(stack))
  console.log("[start] wrote .dev.vars from .dev.vars.example, with a fresh JWT_SECRET and WEBHOOK_SECRETS_KEY");
await applyMigrations(stack.DIRECT_DATABASE_URL).catch((error) => fail(`migrations failed: ${error.message}`));

// wrangler reads .dev.vars itself; a setting exported in the shell wins, so hand wrangler the merged set.
const envFile = writeEnvFile("dev", effectiveSettings());

const quiet = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: process.env.CI ?? "" };
const run = (name, command, args) => {
  // A process group per child: `npm run stop` signals these groups, which also holds what they start.
  const child = spawnGroup(command, args, { cwd: root, env: quiet });
  child.on("exit", (code) => {
    console.log(`[start] ${name} exited (${code}); stopping`);
    shutdown(code ?? 1);
  });
  return child;
};

await import("./build-assets.mjs");
const api = run("API", "wrangler", [
  "dev",
  "--ip",
  "127.0.0.1",
  "--port",
  String(cfg.api.port),
  "--env-file",
  envFile,
  "--show-interactive-dev-session=false",
  // "log" shows the Worker's own log lines (requests, and the development outbox's mail) in this terminal.
  "--log-level",
  "log",
]);
// web/dist is built by scripts/bootstrap.sh (VITE_APE_API_URL, default http://127.0.0.1:8787); `--api` keeps
// it pointed at this API whatever the build said.
const web = run("web UI", process.execPath, [
  join(root, "scripts", "web-server.mjs"),
  "--port",
  String(cfg.web.port),
  "--api",
  apiUrl,
]);
writeAppState(join(root, ".wrangler", "ape-start.pid"), { pid: process.pid, groups: [api.pid, web.pid] });

function shutdown(code = 0) {
  // The children lead groups of their own, so Ctrl-C (sent to this terminal's group) reaches only us: pass it on.
  for (const child of [api, web]) if (child.pid && child.exitCode === null) signalGroup(child.pid, "SIGTERM");
  process.exit(code);
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));
// Closing the terminal hangs up only our group now, so the children are told here.
process.on("SIGHUP", () => shutdown(0));

await waitFor("the API", async () => Boolean(await probeJson(`${apiUrl}/api/v1/health`)), 90_000).catch((error) =>
  fail(error.message),
);
const ready = await fetch(`${apiUrl}/api/v1/health/ready`).then((res) => res.json());
const checks = Object.entries(ready.checks ?? {})
  .map(([name, check]) => `${name} ${check.status}`)
  .join(", ");
const providers = (ready.providers ?? []).filter((p) => p.configured).map((p) => p.id);
console.log(`
APE is running.
  API        ${apiUrl}/api/v1          (${ready.status === "ready" ? "ready" : `NOT READY: ${ready.detail}`})
  API docs   ${apiUrl}/api/v1/docs
  OpenAPI    ${apiUrl}/api/v1/openapi.json
  Web UI     ${webUrl}
  Postgres   127.0.0.1:${cfg.postgres.port} (database ${cfg.postgres.database}; the Worker goes through the WebSocket bridge on :${cfg.pgBridge.port})
  Redis      127.0.0.1:${cfg.redis.port} (the Worker goes through the Upstash REST bridge on :${cfg.upstashBridge.port})
  Checks     ${checks}
  LLMs       ${providers.length ? providers.join(", ") : "none configured: model routes answer 503 until you set a key in .dev.vars"}
Stop with Ctrl-C (the stack keeps running) or \`npm run stop\` (everything).
`);
