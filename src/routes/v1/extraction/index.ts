import type { App } from "../../../lib/app.js";
import { registerValidateRows } from "./validate.js";

/** Extraction, at /extraction/… (scope `extraction`). */
export const registerExtractionRoutes = (app: App) => {
  registerValidateRows(app);
};
