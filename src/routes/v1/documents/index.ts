import type { App } from "../../../lib/app.js";
import { registerDeleteDocument } from "./delete.js";
import { registerGetDocument } from "./get.js";
import { registerGetDocumentText } from "./get-text.js";
import { registerListDocuments } from "./list.js";
import { registerRetryDocument } from "./retry.js";
import { registerSearchDocuments } from "./search.js";
import { registerUploadDocument } from "./upload.js";

/** Documents: upload, read, search and delete, at /documents/… (scope `documents`; GET routes also take `read`). */
export const registerDocumentRoutes = (app: App) => {
  // The search route is registered before `/documents/{id}` routes, so "search" is never read as an id.
  registerSearchDocuments(app);
  registerUploadDocument(app);
  registerListDocuments(app);
  registerGetDocument(app);
  registerGetDocumentText(app);
  registerRetryDocument(app);
  registerDeleteDocument(app);
};
