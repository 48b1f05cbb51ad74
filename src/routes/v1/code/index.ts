import type { App } from "../../../lib/app.js";
import { registerConvertCode } from "./convert.js";
import { registerExplainCode } from "./explain.js";
import { registerGenerateCode } from "./generate.js";
import { registerReviewCode } from "./review.js";

/** The code tools: generate, review, explain and convert, at /code/… (scope `code`). */
export const registerCodeRoutes = (app: App) => {
  registerGenerateCode(app);
  registerReviewCode(app);
  registerExplainCode(app);
  registerConvertCode(app);
};
