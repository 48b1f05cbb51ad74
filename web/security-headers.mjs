// The web UI's response headers, in one place for both servers of the same files: Cloudflare Pages reads them
// from dist/_headers (written by vite.config.ts at build time), and scripts/web-server.mjs sends them locally.
// The Content-Security-Policy allows only the UI's own origin and the API's: no inline script, no eval, no
// other host to talk to. The page reaches the API at its origin, and on loopback at whichever of localhost
// and 127.0.0.1 the browser used (see scripts/web-server.mjs), so both are allowed there.

const LOOPBACK = ["localhost", "127.0.0.1"];

/** The origins the page may call: the API's, and its loopback twin. */
export const apiOrigins = (apiUrl) => {
  const api = new URL(apiUrl);
  if (!LOOPBACK.includes(api.hostname)) return [api.origin];
  return LOOPBACK.map((host) => {
    const twin = new URL(api.origin);
    twin.hostname = host;
    return twin.origin;
  });
};

/**
 * The headers every response of the web UI carries.
 * @param {string} apiUrl the API's origin (`https://api.example.com`)
 * @returns {Record<string, string>}
 */
export const securityHeaders = (apiUrl) => ({
  "Content-Security-Policy": [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ${apiOrigins(apiUrl).join(" ")}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; "),
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
});

/** The same headers as a Cloudflare Pages `_headers` file, for every path. */
export const pagesHeadersFile = (apiUrl) =>
  `/*\n${Object.entries(securityHeaders(apiUrl))
    .map(([name, value]) => `  ${name}: ${value}`)
    .join("\n")}\n`;

/** The API origin a build is made for: VITE_APE_API_URL, else the local API. */
export const buildApiUrl = (env) => env.VITE_APE_API_URL || "http://127.0.0.1:8787";
