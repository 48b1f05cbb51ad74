// Serves the built web UI (web/dist, built by `vite build`) locally: `npm start` on :8788, and the browser tests.
// `wrangler pages dev` would be the closer emulation, but inside this repository it picks up the API's
// wrangler.toml (its Pages shim lives in our node_modules), so a plain static server stands in; Pages serves
// the same files in production. `--api <origin>` overrides, at run time, the API origin the build was made
// for (VITE_APE_API_URL): it answers /config.js, which the page reads before it starts. Every answer carries
// the headers Pages sends from dist/_headers (web/security-headers.mjs), the Content-Security-Policy naming
// this API, so the browser tests run under the policy production has.
import { createServer } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import sirv from "sirv";
import { buildApiUrl, securityHeaders } from "../web/security-headers.mjs";
import { root } from "./dev-vars.mjs";

const { values } = parseArgs({
  options: { port: { type: "string", default: "8788" }, dir: { type: "string" }, api: { type: "string" } },
});
const serve = sirv(values.dir ?? join(root, "web", "dist"), { dev: true, single: true, etag: true });
// On loopback the page and the API must share a host name (localhost or 127.0.0.1, whichever the browser
// used): the refresh cookie is SameSite=Strict, and localhost and 127.0.0.1 are different sites.
const config = values.api
  ? `(() => {
  const api = new URL(${JSON.stringify(values.api)});
  const loopback = ["localhost", "127.0.0.1"];
  if (loopback.includes(api.hostname) && loopback.includes(location.hostname)) api.hostname = location.hostname;
  window.APE_CONFIG = { apiUrl: api.origin };
})();
`
  : undefined;
const headers = securityHeaders(values.api ?? buildApiUrl(process.env));
createServer((request, response) => {
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  // Pages reads _headers and never serves it; neither does this server.
  if (request.url?.split("?")[0] === "/_headers") return response.writeHead(404).end();
  if (config && request.url?.split("?")[0] === "/config.js") {
    response.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
    return response.end(config);
  }
  serve(request, response);
}).listen(Number(values.port), "127.0.0.1", () => {
  console.log(`[web] serving on http://127.0.0.1:${values.port}${values.api ? ` (API ${values.api})` : ""}`);
});
