import { z } from "zod";
import type { RankedPassage } from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import { jsonSchemaFormat, parseJsonAnswer } from "../../llm/json-answer.js";
import { untrusted, untrustedDataRule } from "../../llm/prompts.js";
import type { ChatMessage } from "../../llm/types.js";
import type { ServiceContext } from "../context.js";
import { completeForCaller } from "../llm/call-model.js";
import type { SectionDraft } from "./citations.js";

/** What one model call cost, for the session's usage and budget. */
export type CallSpend = { tokensInput: number; tokensOutput: number; costUsd: number };

/**
 * One JSON answer validated with zod, with one repair round when it does not fit (as extraction's rows are).
 * Every call (the repair too) is reported to `spent` as it returns.
 * @throws ApiError `MODEL_OUTPUT_INVALID` when the repaired answer still does not fit.
 */
const askJson = async <S extends z.ZodType>(
  ctx: ServiceContext,
  input: {
    what: string;
    /** The schema's name as the model sees it (`research_plan`). */
    name: string;
    system: string;
    user: string;
    schema: S;
    spent: (spend: CallSpend) => Promise<void>;
  },
): Promise<z.output<S>> => {
  const ask = async (messages: ChatMessage[]) => {
    // Uncached: an answer that failed validation must not come back from cache when the session is retried.
    const answer = await completeForCaller({
      ctx,
      call: {
        service: "research",
        model: "auto",
        request: { messages, temperature: 0, responseFormat: jsonSchemaFormat(input.name, input.schema) },
        cacheable: false,
        apeSystemPrompts: true,
      },
    });
    await input.spent({
      tokensInput: answer.usage.inputTokens,
      tokensOutput: answer.usage.outputTokens,
      costUsd: answer.costUsd,
    });
    return answer;
  };
  const messages: ChatMessage[] = [
    { role: "system", content: input.system },
    { role: "user", content: input.user },
  ];
  const first = await ask(messages);
  let parsed = parseJsonAnswer(first.text, input.schema);
  if (parsed.ok) return parsed.value;
  ctx.log.info("research answer invalid, asking for a repair", { what: input.what, problems: parsed.problems });
  const repair = await ask([
    ...messages,
    { role: "assistant", content: first.text },
    {
      role: "user",
      content: [
        "Your answer does not match the required JSON shape:",
        ...parsed.problems.map((problem) => `- ${problem}`),
        "Answer again with the corrected JSON object only, as the system message describes, with no text or Markdown around it.",
      ].join("\n"),
    },
  ]);
  parsed = parseJsonAnswer(repair.text, input.schema);
  if (parsed.ok) return parsed.value;
  throw new ApiError(
    "MODEL_OUTPUT_INVALID",
    `The model's ${input.what} did not match the expected shape, even after a repair round: ${parsed.problems.join("; ")}. Retry the session, or choose another model.`,
  );
};

const PlanAnswer = z.object({ sub_questions: z.array(z.string().trim().min(3).max(300)).min(1).max(12) });

/**
 * Splits the query into `count` sub-questions that together answer it.
 * @example
 * const questions = await planQuestions(ctx, { query, count: 3, spent });
 */
export const planQuestions = async (
  ctx: ServiceContext,
  input: {
    query: string;
    count: number;
    /** What the sub-questions are searched in. */
    searching?: "web" | "documents" | "both";
    spent: (spend: CallSpend) => Promise<void>;
  },
) => {
  const where = {
    web: "the web",
    documents: "the user's own documents",
    both: "the web and the user's own documents",
  }[input.searching ?? "web"];
  const answer = await askJson(ctx, {
    what: "research plan",
    name: "research_plan",
    system: [
      `You plan research over ${where}. Split the research question into distinct sub-questions that together answer it, each answerable by searching ${where}, each short and specific.`,
      untrustedDataRule("research_question"),
      `Answer with one JSON object and nothing else: {"sub_questions": ["…", …]} with exactly ${input.count} sub-questions.`,
    ].join("\n\n"),
    user: ["Plan the research for this question.", untrusted("research_question", input.query)].join("\n\n"),
    schema: PlanAnswer,
    spent: input.spent,
  });
  // A model that gives more than asked is cut, not asked again; one that gives fewer is taken as it is.
  const unique = [...new Set(answer.sub_questions)];
  return unique.slice(0, input.count);
};

const SectionAnswer = z.object({
  text: z.string().max(20_000),
  quotes: z
    .array(z.object({ n: z.number().int().min(1), quote: z.string().max(2000) }))
    .max(100)
    .default([]),
});

/**
 * Writes one section answering `question` from the numbered passages, citing them as `[n]` with a quote per
 * number. The answer is a draft: {@link checkSection} checks its citations by code.
 */
export const writeSection = async (
  ctx: ServiceContext,
  input: { query: string; question: string; passages: RankedPassage[]; spent: (spend: CallSpend) => Promise<void> },
): Promise<SectionDraft> =>
  askJson(ctx, {
    what: `section on "${input.question.slice(0, 80)}"`,
    name: "research_section",
    system: [
      "You write one section of a research report that answers a sub-question, using only the numbered passages given. Every sentence that states a fact ends with the number of the passage it comes from, in square brackets: [1], or [1, 3]. Never cite a number that was not given, and never state what no passage says; when the passages do not answer the question, say so in one sentence without a citation.",
      untrustedDataRule("passage"),
      'Answer with one JSON object and nothing else: {"text": "the section in Markdown paragraphs (no heading)", "quotes": [{"n": 1, "quote": "the exact words of passage 1 that support the sentence, copied character for character"}]}. Give one quote for each number you cite.',
    ].join("\n\n"),
    user: [
      `Research question: ${input.query}`,
      `Sub-question of this section: ${input.question}`,
      ...input.passages.map((passage, index) => untrusted("passage", passage.text, { n: index + 1, url: passage.url })),
    ].join("\n\n"),
    schema: SectionAnswer,
    spent: input.spent,
  });

const SummaryAnswer = z.object({ summary: z.string().trim().min(1).max(5000) });

/**
 * The report's summary, written from its checked sections (whose `[n]` are the report's source numbers); the
 * summary may cite those numbers, and is checked like the sections are.
 */
export const writeSummary = async (
  ctx: ServiceContext,
  input: {
    query: string;
    sections: Array<{ question: string; text: string }>;
    spent: (spend: CallSpend) => Promise<void>;
  },
) =>
  (
    await askJson(ctx, {
      what: "summary",
      name: "research_summary",
      system: [
        "You write the summary of a research report: a few sentences that answer the research question from the report's sections. Keep the sections' citation numbers [n] on the sentences whose facts they support, and add no fact the sections do not state.",
        untrustedDataRule("report_section"),
        'Answer with one JSON object and nothing else: {"summary": "…"}.',
      ].join("\n\n"),
      user: [
        `Research question: ${input.query}`,
        ...input.sections.map((section) => untrusted("report_section", section.text, { question: section.question })),
      ].join("\n\n"),
      schema: SummaryAnswer,
      spent: input.spent,
    })
  ).summary;
