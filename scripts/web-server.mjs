// Serves the built web UI locally (`npm start`, :8788). `wrangler pages dev` would be the closer emulation,
// but inside this repository it picks up the API's wrangler.toml (its Pages shim lives in our node_modules),
// so a plain static server stands in; Pages serves the same files in production.
import { createServer } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import sirv from "sirv";
import { root } from "./dev-vars.mjs";

const { values } = parseArgs({ options: { port: { type: "string", default: "8788" }, dir: { type: "string" } } });
const serve = sirv(values.dir ?? join(root, "web", "public"), { dev: true, single: true, etag: true });
createServer((request, response) => serve(request, response)).listen(Number(values.port), "127.0.0.1", () => {
  console.log(`[web] serving on http://127.0.0.1:${values.port}`);
});
