import type { App } from "../../../lib/app.js";
import { registerOpenApiDocument } from "./openapi.js";
import { registerDocsPage } from "./page.js";

export const registerDocsRoutes = (app: App) => {
  registerOpenApiDocument(app);
  registerDocsPage(app);
};
