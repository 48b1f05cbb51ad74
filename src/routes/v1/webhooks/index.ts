import type { App } from "../../../lib/app.js";
import { registerCreateEndpoint } from "./create-endpoint.js";
import { registerDeleteEndpoint } from "./delete-endpoint.js";
import { registerGetEndpoint } from "./get-endpoint.js";
import { registerListDeliveries } from "./list-deliveries.js";
import { registerListEndpoints } from "./list-endpoints.js";
import { registerRedeliver } from "./redeliver.js";
import { registerRotateSecret } from "./rotate-secret.js";
import { registerSendTest } from "./send-test.js";
import { registerUpdateEndpoint } from "./update-endpoint.js";

/** Webhooks, at /users/me/webhooks/… (a signed-in session: they are account settings, like API keys). */
export const registerWebhookRoutes = (app: App) => {
  registerCreateEndpoint(app);
  registerListEndpoints(app);
  registerGetEndpoint(app);
  registerUpdateEndpoint(app);
  registerDeleteEndpoint(app);
  registerRotateSecret(app);
  registerSendTest(app);
  registerListDeliveries(app);
  registerRedeliver(app);
};
