// `npm run stop`: stops the API, the web UI and both local stacks (data folders are kept).
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { root } from "./dev-vars.mjs";
import { stackDown } from "./stack/index.mjs";
import { pidAlive } from "./stack/util.mjs";

const pidFile = join(root, ".wrangler", "ape-start.pid");
try {
  const pid = Number(readFileSync(pidFile, "utf8"));
  if (pidAlive(pid)) {
    process.kill(-pid, "SIGTERM");
    console.log("stopped the API and web UI");
  }
  rmSync(pidFile, { force: true });
} catch {
  // Nothing was started by npm start, or it already ended.
}
for (const profile of ["dev", "test"]) {
  const stopped = await stackDown(profile);
  console.log(`${profile} stack: ${JSON.stringify(stopped)}`);
}
