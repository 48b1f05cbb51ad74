import { generateCode } from "../../../../services/code/code-tools.js";
import { GenerateCodeAnswerSchema, GenerateCodeRequestSchema } from "../../../../services/code/schemas.js";
import { defineTool, parseArguments } from "../tool.js";
import { codeAnswer } from "./code-answer.js";

export const generateCodeTool = defineTool({
  name: "generate_code",
  title: "Generate code",
  description:
    "Writes code in a language from a description, fitted to optional context (existing code, conventions, libraries in use): the code, its language and notes (assumptions, dependencies, how to run it). The answer is validated against its schema by code. Needs the `code` scope.",
  scope: "code",
  reads: false,
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: GenerateCodeRequestSchema.pick({ prompt: true, language: true, context: true, model: true }),
  output: GenerateCodeAnswerSchema,
  run: async (args, { ctx, signal }) => {
    const input = parseArguments(GenerateCodeRequestSchema, { ...args, stream: false });
    return { result: codeAnswer(await generateCode({ ctx, input, signal })) };
  },
});
