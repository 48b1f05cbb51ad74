// The stack the browser tests run against, on its own ports, for running test/e2e/ui-*.test.ts by hand while
// something else holds the ports `npm test` uses: `node scripts/ui-stack.mjs [--api 8800] [--web 8801]` (the
// defaults move with APE_STACK_SLOT, as the test stack does). It prints the variables to export for vitest,
// then keeps running until Ctrl-C.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { root } from "./dev-vars.mjs";
import { startE2eFakes } from "./e2e-fakes.mjs";
import { applyMigrations } from "./migrate.mjs";
import { stackConfig } from "./stack/config.mjs";
import { stackUp } from "./stack/index.mjs";
import { isPortOpen, waitFor } from "./stack/util.mjs";
import { startWranglerDev } from "./wrangler-dev.mjs";

const cfg = stackConfig("test");
const { values } = parseArgs({
  options: {
    api: { type: "string", default: String(cfg.api.port + 3) },
    web: { type: "string", default: String(cfg.web.port + 3) },
  },
});
const webPort = Number(values.web);
const stack = await stackUp("test");
await applyMigrations(stack.DIRECT_DATABASE_URL);
const fakes = await startE2eFakes();
const api = await startWranglerDev({
  name: "ui",
  port: Number(values.api),
  inspectorPort: cfg.api.inspectorPort + 10,
  settings: {
    ENVIRONMENT: "test",
    LOG_LEVEL: "warn",
    DATABASE_URL: stack.DATABASE_URL,
    UPSTASH_REDIS_REST_URL: stack.UPSTASH_REDIS_REST_URL,
    UPSTASH_REDIS_REST_TOKEN: stack.UPSTASH_REDIS_REST_TOKEN,
    JWT_SECRET: randomBytes(32).toString("base64url"),
    WEB_ORIGINS: `http://127.0.0.1:${webPort}`,
    ...fakes.settings,
  },
});
const web = spawn(
  process.execPath,
  [join(root, "scripts", "web-server.mjs"), "--port", String(webPort), "--api", api.url],
  { stdio: "ignore" },
);
await waitFor("the web UI", () => isPortOpen(webPort));
const env = { APE_E2E_URL: api.url, APE_E2E_WEB_URL: `http://127.0.0.1:${webPort}`, ...fakes.env };
console.log(
  Object.entries(env)
    .map(([k, v]) => `export ${k}=${v}`)
    .join("\n"),
);
const stop = async () => {
  api.stop();
  web.kill();
  await fakes.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
