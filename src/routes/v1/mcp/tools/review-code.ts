import { reviewCode } from "../../../../services/code/code-tools.js";
import { ReviewCodeAnswerSchema, ReviewCodeRequestSchema } from "../../../../services/code/schemas.js";
import { defineTool, parseArguments } from "../tool.js";
import { codeAnswer } from "./code-answer.js";

export const reviewCodeTool = defineTool({
  name: "review_code",
  title: "Review code",
  description:
    "Reviews code for bugs, security holes, unhandled edge cases, performance traps and maintainability: a short verdict and findings, most severe first, each with severity, line range, explanation and a suggested fix. The answer is validated against its schema by code. `focus` (e.g. `security`) says what to look at most closely. Needs the `code` scope.",
  scope: "code",
  reads: false,
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: ReviewCodeRequestSchema.pick({ code: true, language: true, focus: true, model: true }),
  output: ReviewCodeAnswerSchema,
  run: async (args, { ctx, signal }) => {
    const input = parseArguments(ReviewCodeRequestSchema, { ...args, stream: false });
    return { result: codeAnswer(await reviewCode({ ctx, input, signal })) };
  },
});
