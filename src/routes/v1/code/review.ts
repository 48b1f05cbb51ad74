import type { App } from "../../../lib/app.js";
import { reviewCode } from "../../../services/code/code-tools.js";
import { ReviewCodeAnswerSchema, ReviewCodeRequestSchema } from "../../../services/code/schemas.js";
import { codeToolRoute, sendCodeToolAnswer } from "./answer.js";

export const reviewCodeRoute = codeToolRoute({
  path: "/code/review",
  summary: "Review code",
  description:
    "Reviews code for bugs, security holes, unhandled edge cases, performance traps and maintainability: a short verdict and findings, most severe first, each with its severity, lines, explanation and a suggested fix. `focus` (e.g. `security`) says what to look at most closely.",
  body: ReviewCodeRequestSchema,
  answer: ReviewCodeAnswerSchema,
});

export const registerReviewCode = (app: App) =>
  app.openapi(reviewCodeRoute, async (c) =>
    sendCodeToolAnswer(c, await reviewCode({ ctx: c.var.ctx, input: c.req.valid("json"), signal: c.req.raw.signal })),
  );
