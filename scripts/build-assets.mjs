// Copies the files the docs page loads into public/, which wrangler serves as static assets. Keeping them
// out of the Worker bundle keeps the Worker small; keeping them off a CDN makes /api/v1/docs work offline.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const swaggerDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const target = join(root, "public", "api", "v1", "docs", "assets");
mkdirSync(target, { recursive: true });
for (const file of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"]) {
  copyFileSync(join(swaggerDir, file), join(target, file));
}

// Our own initializer, as a file rather than an inline script, so the docs page's CSP allows only 'self'.
writeFileSync(
  join(target, "initializer.js"),
  `window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#reference",
  deepLinking: true,
  tryItOutEnabled: true,
  persistAuthorization: false,
});
`,
);
