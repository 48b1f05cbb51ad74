import type { App } from "../../../lib/app.js";
import { registerLive } from "./live.js";
import { registerReady } from "./ready.js";

export const registerHealthRoutes = (app: App) => {
  registerLive(app);
  registerReady(app);
};
