import { createApp } from "../../../lib/app.js";
import { registerChatCompletions } from "./chat-completions.js";
import { registerEmbeddings } from "./embeddings.js";
import { registerListModels } from "./models.js";
import { overheadHeader } from "./overhead.js";

/**
 * The OpenAI-compatible front door, mounted at /openai. Its errors are rendered in OpenAI's shape by the one
 * error handler (src/middleware/problems.ts), which knows this path.
 */
export const createOpenAiRoutes = () => {
  const app = createApp();
  app.use(overheadHeader());
  registerChatCompletions(app);
  registerEmbeddings(app);
  registerListModels(app);
  return app;
};
