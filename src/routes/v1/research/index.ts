import type { App } from "../../../lib/app.js";
import { registerAttachDocument } from "./attach-document.js";
import { registerCancelSession } from "./cancel-session.js";
import { registerCreateSession } from "./create-session.js";
import { registerDeleteSession } from "./delete-session.js";
import { registerEstimateSession } from "./estimate-session.js";
import { registerExportSession } from "./export-session.js";
import { registerGetSession } from "./get-session.js";
import { registerListSessions } from "./list-sessions.js";
import { registerRetrySession } from "./retry-session.js";
import { registerSessionEvents } from "./session-events.js";

/** Research, at /research/… (scope `research`; GET routes also take `read`). */
export const registerResearchRoutes = (app: App) => {
  // The estimate before `{id}` routes, so `estimate` is never read as an id.
  registerEstimateSession(app);
  registerCreateSession(app);
  registerListSessions(app);
  registerGetSession(app);
  registerSessionEvents(app);
  registerExportSession(app);
  registerCancelSession(app);
  registerRetrySession(app);
  registerDeleteSession(app);
  registerAttachDocument(app);
};
