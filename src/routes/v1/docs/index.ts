import type { App } from "../../../lib/app.js";
import { registerDocsPage } from "./page.js";
import { registerOpenApiDocument } from "./openapi.js";

export const registerDocsRoutes = (app: App) => {
  registerOpenApiDocument(app);
  registerDocsPage(app);
};
