import { z } from "@hono/zod-openapi";
import { providerIds } from "../../llm/types.js";
import { type Language, languages } from "./languages.js";

/** Input limits, in characters (UTF-16 code units, as JavaScript counts them). */
export const CODE_LIMITS = { code: 100_000, prompt: 20_000, context: 50_000, focus: 500 } as const;

const atMost = (limit: number) => `must be at most ${limit.toLocaleString("en-US")} characters`;

const unknownLanguage = `is not a supported language; use one of: ${languages.join(", ")}`;

/**
 * A language of the known list; anything else is a 400 naming the field. A factory rather than one named
 * schema, so each field carries its own description and example (a `$ref` cannot).
 */
export const languageSchema = (description: string, example: Language) =>
  z
    .enum(languages, { error: (issue) => (issue.input === undefined ? "is required" : unknownLanguage) })
    .openapi({ description, example });

const CodeInputSchema = z
  .string({ error: "is required" })
  .min(1, "must not be empty")
  .max(CODE_LIMITS.code, atMost(CODE_LIMITS.code));

const ModelSpecSchema = z.string().min(1).max(200).default("auto").openapi({
  description:
    "Which model answers: `auto` (every configured provider in priority order, with fallback), `fast` or `quality` (a tier), a provider (`groq`, `bedrock`, `openai`, `compat`), `provider/model`, or a model id from GET /openai/models.",
  example: "auto",
});

const StreamSchema = z.boolean().default(false).openapi({
  description:
    "Answer as server-sent events: `delta` events with the model's text as it arrives, then one `result` event (the same body as without streaming) or an `error` event. No repair round is made when streaming.",
  example: false,
});

// ---------------------------------------------------------------------------------------------------------------
// Requests

export const GenerateCodeRequestSchema = z
  .object({
    prompt: z
      .string({ error: "is required" })
      .min(1, "must not be empty")
      .max(CODE_LIMITS.prompt, atMost(CODE_LIMITS.prompt))
      .openapi({
        description: "What the code should do, in plain words (at most 20,000 characters).",
        example: "A function that returns the n-th Fibonacci number iteratively.",
      }),
    language: languageSchema("The language to write the code in.", "python"),
    context: z.string().max(CODE_LIMITS.context, atMost(CODE_LIMITS.context)).optional().openapi({
      description:
        "Existing code or notes the new code must fit with: types, conventions, libraries in use (at most 50,000 characters).",
      example: "We target Python 3.12 and never use recursion in hot paths.",
    }),
    model: ModelSpecSchema,
    stream: StreamSchema,
  })
  .openapi("GenerateCodeRequest");

export type GenerateCodeRequest = z.output<typeof GenerateCodeRequestSchema>;

const codeField = (description: string, example: string) =>
  CodeInputSchema.openapi({ description: `${description} (at most 100,000 characters).`, example });

export const ReviewCodeRequestSchema = z
  .object({
    code: codeField("The code to review", "def div(a, b):\n    return a / b\n"),
    language: languageSchema("The code's language; the model works it out when left out.", "python").optional(),
    focus: z.string().max(CODE_LIMITS.focus, atMost(CODE_LIMITS.focus)).optional().openapi({
      description:
        "What to look at most closely, e.g. `security`, `performance` or `error handling` (at most 500 characters).",
      example: "security",
    }),
    model: ModelSpecSchema,
    stream: StreamSchema,
  })
  .openapi("ReviewCodeRequest");

export type ReviewCodeRequest = z.output<typeof ReviewCodeRequestSchema>;

export const explanationLevels = ["beginner", "intermediate", "expert"] as const;

export const ExplainCodeRequestSchema = z
  .object({
    code: codeField("The code to explain", "const total = items.reduce((sum, item) => sum + item.price, 0);"),
    language: languageSchema("The code's language; the model works it out when left out.", "typescript").optional(),
    level: z.enum(explanationLevels).default("intermediate").openapi({
      description:
        "Who the explanation is for: `beginner` (new to programming), `intermediate` (a developer new to this code) or `expert` (subtleties only).",
      example: "intermediate",
    }),
    model: ModelSpecSchema,
    stream: StreamSchema,
  })
  .openapi("ExplainCodeRequest");

export type ExplainCodeRequest = z.output<typeof ExplainCodeRequestSchema>;

export const ConvertCodeRequestSchema = z
  .object({
    code: codeField("The code to convert", "def greet(name):\n    return f'Hello, {name}!'\n"),
    from: languageSchema("The language the code is written in.", "python"),
    to: languageSchema("The language to convert it to; must differ from `from`.", "go"),
    model: ModelSpecSchema,
    stream: StreamSchema,
  })
  .refine((body) => body.from !== body.to, { message: "must differ from `from`", path: ["to"] })
  .openapi("ConvertCodeRequest");

export type ConvertCodeRequest = z.output<typeof ConvertCodeRequestSchema>;

// ---------------------------------------------------------------------------------------------------------------
// What the model answers (validated before any client sees it)

const NotesSchema = z.array(z.string()).openapi({
  description: "Assumptions made, dependencies to install, how to run it, and anything left out; may be empty.",
  example: ["Uses only the standard library."],
});

export const GeneratedCodeSchema = z
  .object({
    code: z.string().min(1, "must not be empty").openapi({
      description: "The generated code, without Markdown fences.",
      example:
        "def fib(n: int) -> int:\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
    }),
    language: languageSchema("The language of the code (the one asked for).", "python"),
    notes: NotesSchema,
  })
  .openapi("GeneratedCode");

export type GeneratedCode = z.output<typeof GeneratedCodeSchema>;

export const severities = ["critical", "high", "medium", "low", "info"] as const;

export const CodeFindingSchema = z
  .object({
    severity: z.enum(severities).openapi({
      description: "How much it matters: `critical`, `high`, `medium`, `low` or `info`.",
      example: "high",
    }),
    line_start: z
      .number()
      .int()
      .min(1)
      .openapi({ description: "The first line (1-based) of the code the finding is about.", example: 2 }),
    line_end: z
      .number()
      .int()
      .min(1)
      .openapi({ description: "The last line it is about; equal to `line_start` for one line.", example: 2 }),
    title: z.string().min(1, "must not be empty").openapi({
      description: "The finding in a few words.",
      example: "Division by zero is not handled",
    }),
    explanation: z.string().openapi({
      description: "What is wrong and why it matters.",
      example: "`div(1, 0)` raises ZeroDivisionError, which callers do not expect.",
    }),
    suggested_fix: z.string().openapi({
      description: "Replacement code or a concrete change; empty when there is nothing to change.",
      example: "if b == 0:\n    raise ValueError('b must not be zero')\nreturn a / b",
    }),
  })
  .refine((finding) => finding.line_end >= finding.line_start, {
    message: "must be at least line_start",
    path: ["line_end"],
  })
  .openapi("CodeFinding");

export const CodeReviewSchema = z
  .object({
    summary: z.string().min(1, "must not be empty").openapi({
      description: "The overall verdict in a few sentences.",
      example: "Small and readable, but it fails on a zero divisor.",
    }),
    findings: z.array(CodeFindingSchema).openapi({
      description: "What the review found, most severe first; empty when nothing needs attention.",
      example: [
        {
          severity: "high",
          line_start: 2,
          line_end: 2,
          title: "Division by zero is not handled",
          explanation: "`div(1, 0)` raises ZeroDivisionError, which callers do not expect.",
          suggested_fix: "if b == 0:\n    raise ValueError('b must not be zero')\nreturn a / b",
        },
      ],
    }),
  })
  .openapi("CodeReview");

export type CodeReview = z.output<typeof CodeReviewSchema>;

export const CodeExplanationSchema = z
  .object({
    summary: z.string().min(1, "must not be empty").openapi({
      description: "What the code does, in a sentence or two.",
      example: "Adds up the price of every item.",
    }),
    explanation: z.string().min(1, "must not be empty").openapi({
      description: "A walk through the code at the level asked for (Markdown).",
      example: "`reduce` visits each item in turn, carrying a running `sum` that starts at 0…",
    }),
    key_points: z.array(z.string()).openapi({
      description: "The main things to take away, one short sentence each.",
      example: ["`reduce` folds a list into one value.", "The 0 is the starting total."],
    }),
  })
  .openapi("CodeExplanation");

export type CodeExplanation = z.output<typeof CodeExplanationSchema>;

export const ConvertedCodeSchema = z
  .object({
    code: z.string().min(1, "must not be empty").openapi({
      description: "The converted code, without Markdown fences.",
      example: 'func Greet(name string) string {\n\treturn fmt.Sprintf("Hello, %s!", name)\n}\n',
    }),
    from: languageSchema("The language converted from.", "python"),
    to: languageSchema("The language converted to.", "go"),
    notes: NotesSchema.openapi({
      description:
        "Behaviour that differs, libraries replaced, and anything that could not be converted; may be empty.",
      example: ['Needs `import "fmt"`.'],
    }),
  })
  .openapi("ConvertedCode");

export type ConvertedCode = z.output<typeof ConvertedCodeSchema>;

// ---------------------------------------------------------------------------------------------------------------
// What the API answers

export const CodeToolModelSchema = z
  .object({
    provider: z.enum(providerIds).openapi({ description: "The provider that answered.", example: "groq" }),
    model: z.string().openapi({ description: "The model that answered.", example: "llama-3.3-70b-versatile" }),
    cached: z
      .boolean()
      .openapi({ description: "Whether the answer came from APE's answer cache (at no cost).", example: false }),
  })
  .openapi("CodeToolModel");

export const CodeToolUsageSchema = z
  .object({
    tokens_input: z
      .number()
      .int()
      .openapi({ description: "Tokens sent to the model, over every call this answer took.", example: 412 }),
    tokens_output: z
      .number()
      .int()
      .openapi({ description: "Tokens the model wrote, over every call this answer took.", example: 96 }),
    cost_usd: z.number().openapi({
      description: "What the calls cost in US dollars, as recorded in the caller's usage (0 for cached answers).",
      example: 0.000401,
    }),
  })
  .openapi("CodeToolUsage");

const answerSchema = <T extends z.ZodType>(name: string, result: T, description: string) =>
  z
    .object({
      result,
      model: CodeToolModelSchema,
      usage: CodeToolUsageSchema,
      repaired: z.boolean().openapi({
        description:
          "Whether the model's first answer did not match the shape and a second call corrected it (usage covers both).",
        example: false,
      }),
    })
    .openapi(name, { description });

export const GenerateCodeAnswerSchema = answerSchema(
  "GenerateCodeAnswer",
  GeneratedCodeSchema,
  "Generated code, with the model that wrote it and what it cost.",
);
export const ReviewCodeAnswerSchema = answerSchema(
  "ReviewCodeAnswer",
  CodeReviewSchema,
  "A code review, with the model that wrote it and what it cost.",
);
export const ExplainCodeAnswerSchema = answerSchema(
  "ExplainCodeAnswer",
  CodeExplanationSchema,
  "An explanation of code, with the model that wrote it and what it cost.",
);
export const ConvertCodeAnswerSchema = answerSchema(
  "ConvertCodeAnswer",
  ConvertedCodeSchema,
  "Converted code, with the model that wrote it and what it cost.",
);

/** The body of a code tool's answer (and of a stream's `result` event). */
export type CodeToolAnswer<T> = {
  result: T;
  model: z.output<typeof CodeToolModelSchema>;
  usage: z.output<typeof CodeToolUsageSchema>;
  repaired: boolean;
};
