// `npm run stop`: stops the API, the web UI and both local stacks (data folders are kept).
import { join } from "node:path";
import { stopApp } from "./app-processes.mjs";
import { root } from "./dev-vars.mjs";
import { stackDown } from "./stack/index.mjs";

const { running, killed } = await stopApp(join(root, ".wrangler", "ape-start.pid"));
if (running) console.log(`stopped the API and web UI${killed ? " (some had to be killed)" : ""}`);
for (const profile of ["dev", "test"]) {
  const stopped = await stackDown(profile);
  console.log(`${profile} stack: ${JSON.stringify(stopped)}`);
}
