import type { App } from "../../../lib/app.js";
import { registerCreateApiKey } from "./create-api-key.js";
import { registerDeleteMe } from "./delete-me.js";
import { registerGetMe } from "./get-me.js";
import { registerGetUsage } from "./get-usage.js";
import { registerListApiKeys } from "./list-api-keys.js";
import { registerListAudit } from "./list-audit.js";
import { registerRevokeApiKey } from "./revoke-api-key.js";
import { registerUpdateMe } from "./update-me.js";

export const registerUserRoutes = (app: App) => {
  registerGetMe(app);
  registerUpdateMe(app);
  registerDeleteMe(app);
  registerListAudit(app);
  registerGetUsage(app);
  registerCreateApiKey(app);
  registerListApiKeys(app);
  registerRevokeApiKey(app);
};
