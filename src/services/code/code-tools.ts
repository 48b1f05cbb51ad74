import { untrusted, untrustedDataRule } from "../../llm/prompts.js";
import type { ServiceContext } from "../context.js";
import { type Language, languageName } from "./languages.js";
import { type CodeTool, runCodeTool } from "./run-code-tool.js";
import {
  CodeExplanationSchema,
  CodeReviewSchema,
  type ConvertCodeRequest,
  ConvertedCodeSchema,
  type ExplainCodeRequest,
  type GenerateCodeRequest,
  GeneratedCodeSchema,
  type ReviewCodeRequest,
} from "./schemas.js";

const JSON_ONLY =
  "Answer with one JSON object and nothing else (no Markdown fences, no text before or after it), in exactly this shape:";

const named = (language: Language | undefined) => (language ? languageName(language) : "the code's language");

// Models wrap code in Markdown fences out of habit, even inside a JSON string; the fence is not code.
const unfence = (value: unknown) => {
  if (typeof value !== "string") return value;
  const fenced = value.match(/^\s*```[\w+#.-]*[ \t]*\r?\n([\s\S]*?)\r?\n?```\s*$/);
  return fenced ? fenced[1] : value;
};

const numbered = (code: string) => {
  const lines = code.split(/\r?\n/);
  const width = String(lines.length).length;
  return lines.map((line, index) => `${String(index + 1).padStart(width)} | ${line}`).join("\n");
};

const lineCount = (code: string) => code.split(/\r?\n/).length;

const generateTool: CodeTool<GenerateCodeRequest, typeof GeneratedCodeSchema> = {
  name: "generate",
  output: GeneratedCodeSchema,
  system: (input) =>
    [
      `You are an expert ${languageName(input.language)} programmer. Write the ${languageName(input.language)} code the request in <user_prompt> describes: complete, correct, idiomatic and ready to use, with brief comments where the intent is not obvious.`,
      "If a <user_context> block is present, it holds existing code or notes: fit the new code to its types, names, conventions and libraries.",
      untrustedDataRule("user_prompt", "user_context"),
      JSON_ONLY,
      `{"code": string (the code only, no fences), "language": "${input.language}", "notes": [string] (assumptions, dependencies to install, how to run it; may be empty)}`,
    ].join("\n\n"),
  user: (input) =>
    [untrusted("user_prompt", input.prompt), ...(input.context ? [untrusted("user_context", input.context)] : [])].join(
      "\n\n",
    ),
  prepare: (answer, input) => ({ ...answer, code: unfence(answer.code), language: input.language }),
};

const reviewTool: CodeTool<ReviewCodeRequest, typeof CodeReviewSchema> = {
  name: "review",
  output: CodeReviewSchema,
  system: (input) =>
    [
      `You are a meticulous senior reviewer of ${named(input.language)}. Review the code in <user_code> for real problems: bugs, security holes, unhandled errors and edge cases, performance traps, and code that will be hard to maintain. Do not pad the review with matters of taste.`,
      "Each line of the code is shown with its number and ` | ` in front; the numbers are not part of the code. Use them for `line_start` and `line_end`, and never copy them into `suggested_fix`.",
      ...(input.language ? [] : ["The language is not stated; work it out from the code."]),
      ...(input.focus
        ? [
            "A <review_focus> block names what the caller cares about most: look at that most closely, and still report anything critical.",
          ]
        : []),
      untrustedDataRule("user_code", ...(input.focus ? ["review_focus"] : [])),
      JSON_ONLY,
      '{"summary": string (the overall verdict in a few sentences), "findings": [{"severity": "critical" | "high" | "medium" | "low" | "info", "line_start": integer >= 1, "line_end": integer >= line_start, "title": string (a few words), "explanation": string (what is wrong and why it matters), "suggested_fix": string (replacement code or a concrete change; "" if none)}]}',
      'Order findings from most to least severe. "findings" is an empty array when nothing needs attention.',
    ].join("\n\n"),
  user: (input) =>
    [
      untrusted("user_code", numbered(input.code), { language: input.language, lines: lineCount(input.code) }),
      ...(input.focus ? [untrusted("review_focus", input.focus)] : []),
    ].join("\n\n"),
  check: (review, input) => {
    const lines = lineCount(input.code);
    return review.findings.flatMap((finding, index) =>
      finding.line_end > lines ? [`findings[${index}].line_end: must be at most ${lines}, the code's last line`] : [],
    );
  },
};

const LEVELS: Record<ExplainCodeRequest["level"], string> = {
  beginner:
    "The reader is new to programming: avoid jargon, define every term you need, and explain what each part does step by step.",
  intermediate:
    "The reader is a working developer who does not know this code (or perhaps this language): explain what it does, how, and why it is written this way.",
  expert:
    "The reader is an expert: be brief about the obvious and concentrate on subtle behaviour, complexity, edge cases and design choices.",
};

const explainTool: CodeTool<ExplainCodeRequest, typeof CodeExplanationSchema> = {
  name: "explain",
  output: CodeExplanationSchema,
  system: (input) =>
    [
      `You explain ${named(input.language)} code clearly and accurately. Explain the code in <user_code>. ${LEVELS[input.level]}`,
      ...(input.language ? [] : ["The language is not stated; work it out from the code."]),
      untrustedDataRule("user_code"),
      JSON_ONLY,
      '{"summary": string (what the code does, in a sentence or two), "explanation": string (a walk through the code; Markdown allowed), "key_points": [string] (three to seven short takeaways)}',
    ].join("\n\n"),
  user: (input) => untrusted("user_code", input.code, { language: input.language }),
};

const convertTool: CodeTool<ConvertCodeRequest, typeof ConvertedCodeSchema> = {
  name: "convert",
  output: ConvertedCodeSchema,
  system: (input) =>
    [
      `You are an expert in both ${languageName(input.from)} and ${languageName(input.to)}. Convert the ${languageName(input.from)} code in <user_code> to idiomatic ${languageName(input.to)} that behaves the same: use ${languageName(input.to)}'s own conventions, standard library and error handling rather than a line-by-line transliteration.`,
      untrustedDataRule("user_code"),
      JSON_ONLY,
      `{"code": string (the converted code only, no fences), "from": "${input.from}", "to": "${input.to}", "notes": [string] (behaviour that differs, libraries replaced, anything that could not be converted; may be empty)}`,
    ].join("\n\n"),
  user: (input) => untrusted("user_code", input.code, { language: input.from }),
  prepare: (answer, input) => ({ ...answer, code: unfence(answer.code), from: input.from, to: input.to }),
};

type Verb<I> = { ctx: ServiceContext; input: I; signal?: AbortSignal | undefined };

/**
 * Writes code in a language from a description (and optional context).
 * @example
 * const outcome = await generateCode({ ctx, input: { prompt: "fizzbuzz", language: "go", model: "auto", stream: false } });
 */
export const generateCode = ({ ctx, input, signal }: Verb<GenerateCodeRequest>) =>
  runCodeTool({ ctx, tool: generateTool, input, signal });

/**
 * Reviews code: a verdict and findings with severity, lines and a suggested fix.
 * @example
 * const outcome = await reviewCode({ ctx, input: { code, focus: "security", model: "auto", stream: false } });
 */
export const reviewCode = ({ ctx, input, signal }: Verb<ReviewCodeRequest>) =>
  runCodeTool({ ctx, tool: reviewTool, input, signal });

/**
 * Explains code at a beginner, intermediate or expert level.
 * @example
 * const outcome = await explainCode({ ctx, input: { code, level: "beginner", model: "auto", stream: false } });
 */
export const explainCode = ({ ctx, input, signal }: Verb<ExplainCodeRequest>) =>
  runCodeTool({ ctx, tool: explainTool, input, signal });

/**
 * Converts code from one language to another.
 * @example
 * const outcome = await convertCode({ ctx, input: { code, from: "python", to: "go", model: "auto", stream: false } });
 */
export const convertCode = ({ ctx, input, signal }: Verb<ConvertCodeRequest>) =>
  runCodeTool({ ctx, tool: convertTool, input, signal });
