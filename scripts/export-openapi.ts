// Writes the OpenAPI 3.1 document to a file (default openapi.json), for client generators and reviews:
// `npm run openapi:export -- path/to/openapi.json`. The document is built by the same code that serves it.
import { writeFileSync } from "node:fs";
import { buildApp } from "../src/app.js";
import { openApiInfo } from "../src/routes/v1/docs/openapi.js";

const target = process.argv[2] ?? "openapi.json";
const document = buildApp().api.getOpenAPI31Document(openApiInfo);
writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
console.log(`wrote ${target}: ${Object.keys(document.paths ?? {}).length} paths`);
