import type { App } from "../../../lib/app.js";

// The script and styles are static assets (scripts/build-assets.mjs), so the page needs no CDN and no
// inline script, and its Content-Security-Policy can stay strict.
const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>APE API reference</title>
  <link rel="icon" href="/api/v1/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/api/v1/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="reference"></div>
  <script src="/api/v1/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/api/v1/docs/assets/initializer.js"></script>
</body>
</html>`;

export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Interactive reference for the API, rendered in the browser from /api/v1/openapi.json. */
export const registerDocsPage = (app: App) =>
  app.get("/docs", (c) => c.html(page, 200, { "content-security-policy": DOCS_CSP }));
