import type { App } from "../../../lib/app.js";
import { explainCode } from "../../../services/code/code-tools.js";
import { ExplainCodeAnswerSchema, ExplainCodeRequestSchema } from "../../../services/code/schemas.js";
import { codeToolRoute, sendCodeToolAnswer } from "./answer.js";

export const explainCodeRoute = codeToolRoute({
  path: "/code/explain",
  summary: "Explain code",
  description:
    "Explains what code does and how, for a `beginner`, an `intermediate` developer (the default) or an `expert`: a one-line summary, a walk-through and the key points.",
  body: ExplainCodeRequestSchema,
  answer: ExplainCodeAnswerSchema,
});

export const registerExplainCode = (app: App) =>
  app.openapi(explainCodeRoute, async (c) =>
    sendCodeToolAnswer(c, await explainCode({ ctx: c.var.ctx, input: c.req.valid("json"), signal: c.req.raw.signal })),
  );
