import { createApp } from "../../../lib/app.js";
import { registerChatCompletions } from "./chat-completions.js";
import { registerListModels } from "./models.js";

/**
 * The OpenAI-compatible front door, mounted at /openai. Its errors are rendered in OpenAI's shape by the one
 * error handler (src/middleware/problems.ts), which knows this path.
 */
export const createOpenAiRoutes = () => {
  const app = createApp();
  registerChatCompletions(app);
  registerListModels(app);
  return app;
};
