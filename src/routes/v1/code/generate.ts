import type { App } from "../../../lib/app.js";
import { generateCode } from "../../../services/code/code-tools.js";
import { GenerateCodeAnswerSchema, GenerateCodeRequestSchema } from "../../../services/code/schemas.js";
import { codeToolRoute, sendCodeToolAnswer } from "./answer.js";

export const generateCodeRoute = codeToolRoute({
  path: "/code/generate",
  summary: "Generate code",
  description:
    "Writes code in the given language from a description, fitted to optional `context` (existing code, conventions, libraries in use), with notes on assumptions, dependencies and how to run it.",
  body: GenerateCodeRequestSchema,
  answer: GenerateCodeAnswerSchema,
});

export const registerGenerateCode = (app: App) =>
  app.openapi(generateCodeRoute, async (c) =>
    sendCodeToolAnswer(c, await generateCode({ ctx: c.var.ctx, input: c.req.valid("json"), signal: c.req.raw.signal })),
  );
