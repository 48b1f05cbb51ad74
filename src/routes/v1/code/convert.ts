import type { App } from "../../../lib/app.js";
import { convertCode } from "../../../services/code/code-tools.js";
import { ConvertCodeAnswerSchema, ConvertCodeRequestSchema } from "../../../services/code/schemas.js";
import { codeToolRoute, sendCodeToolAnswer } from "./answer.js";

export const convertCodeRoute = codeToolRoute({
  path: "/code/convert",
  summary: "Convert code to another language",
  description:
    "Converts code from one language to another, idiomatically and with the same behaviour, with notes on what differs, which libraries were replaced and anything that could not be converted.",
  body: ConvertCodeRequestSchema,
  answer: ConvertCodeAnswerSchema,
});

export const registerConvertCode = (app: App) =>
  app.openapi(convertCodeRoute, async (c) =>
    sendCodeToolAnswer(c, await convertCode({ ctx: c.var.ctx, input: c.req.valid("json"), signal: c.req.raw.signal })),
  );
