import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { listModels } from "../../../services/llm/list-models.js";
import { sessionOrApiKey } from "../../security.js";
import { ModelListSchema, openAiErrors } from "./schemas.js";

export const listModelsRoute = createRoute({
  method: "get",
  path: "/models",
  tags: ["openai"],
  summary: "List models (OpenAI-compatible)",
  description:
    "What `model` may be in chat completions: `auto`, `fast`, `quality`, each configured provider, and `provider/model` for each configured model with its `capabilities` (`tools`, `vision`, `json_schema`) and `context_window`. Empty when no provider is configured. Takes an API key with the `chat` (or `read`) scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  responses: {
    200: { description: "The models.", content: { "application/json": { schema: ModelListSchema } } },
    ...openAiErrors(401, 403, 429),
  },
});

export const registerListModels = (app: App) =>
  app.openapi(listModelsRoute, (c) =>
    c.json(
      {
        object: "list" as const,
        data: listModels({ ctx: c.var.ctx }).map((model) => ({
          id: model.id,
          object: "model" as const,
          created: 0,
          owned_by: model.owned_by,
          ...(model.capabilities ? { capabilities: model.capabilities, context_window: model.context_window } : {}),
        })),
      },
      200,
    ),
  );
