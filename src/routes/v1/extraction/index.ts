import type { App } from "../../../lib/app.js";
import { registerCancelJob } from "./cancel-job.js";
import { registerCreateJob } from "./create-job.js";
import { registerDetectSchema } from "./detect-schema.js";
import { registerExportJob } from "./export-job.js";
import { registerGetJob } from "./get-job.js";
import { registerListJobs } from "./list-jobs.js";
import { registerListRows } from "./list-rows.js";
import { registerRetryJob } from "./retry-job.js";
import { registerValidateRows } from "./validate.js";

/** Extraction, at /extraction/… (scope `extraction`; GET routes also take `read`). */
export const registerExtractionRoutes = (app: App) => {
  registerValidateRows(app);
  registerDetectSchema(app);
  registerCreateJob(app);
  registerListJobs(app);
  registerGetJob(app);
  registerListRows(app);
  registerExportJob(app);
  registerCancelJob(app);
  registerRetryJob(app);
};
