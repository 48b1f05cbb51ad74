import type { z } from "zod";
import { ApiError } from "../../lib/errors.js";
import { jsonSchemaFormat, parseJsonAnswer } from "../../llm/json-answer.js";
import { estimateTokens } from "../../llm/models.js";
import type { ChatMessage, FinishReason, LlmRequest, TokenUsage } from "../../llm/types.js";
import type { ServiceContext } from "../context.js";
import { completeForCaller, type ModelAnswer, type ModelCall, streamForCaller } from "../llm/call-model.js";
import type { CodeToolAnswer } from "./schemas.js";

/**
 * One code tool: what it asks the model and the shape the answer must have. `prepare` fixes up the parsed
 * answer before validation (fields that only echo the request); `check` adds what the schema cannot know
 * (a finding's lines inside the code that was sent).
 */
export type CodeTool<I, S extends z.ZodType> = {
  name: string;
  output: S;
  system: (input: I) => string;
  user: (input: I) => string;
  prepare?: (answer: Record<string, unknown>, input: I) => Record<string, unknown>;
  check?: (result: z.output<S>, input: I) => string[];
};

/** What every code tool request carries besides its own fields. */
type ToolInput = { model: string; stream: boolean };

/** One event of a streamed code tool answer. */
export type CodeToolEvent<T> =
  | { type: "delta"; text: string }
  | { type: "result"; answer: CodeToolAnswer<T> }
  | { type: "error"; code: string; message: string };

/** A code tool's answer: whole, or (with `stream: true`) as events. */
export type CodeToolOutcome<T> =
  | { kind: "answer"; answer: CodeToolAnswer<T> }
  | { kind: "stream"; events: AsyncIterable<CodeToolEvent<T>> };

// Low enough for code that sticks to the request, high enough that a retry is not a word-for-word repeat.
const TEMPERATURE = 0.2;

const roundUsd = (usd: number) => Math.round(usd * 1e8) / 1e8;

const validate = <I, S extends z.ZodType>(
  tool: CodeTool<I, S>,
  input: I,
  text: string,
  finishReason: FinishReason | null,
) => {
  const parsed = parseJsonAnswer(text, tool.output, {
    prepare: (value) =>
      tool.prepare && value !== null && typeof value === "object" && !Array.isArray(value)
        ? tool.prepare(value as Record<string, unknown>, input)
        : value,
  });
  if (!parsed.ok) {
    const cut = finishReason === "length" ? ["(the whole answer): was cut off at the output token limit"] : [];
    return { ok: false as const, problems: [...cut, ...parsed.problems] };
  }
  const problems = tool.check?.(parsed.value, input) ?? [];
  return problems.length > 0 ? { ok: false as const, problems } : parsed;
};

const repairPrompt = (problems: string[]) =>
  [
    "Your answer does not match the required JSON shape:",
    ...problems.map((problem) => `- ${problem}`),
    "Answer again with the corrected JSON object only: the same shape as the system message describes, keeping what was right, with no text or Markdown around it.",
  ].join("\n");

const invalid = (toolName: string, problems: string[], repaired: boolean) =>
  new ApiError(
    "MODEL_OUTPUT_INVALID",
    `The model's ${toolName} answer did not match the expected shape${repaired ? ", even after a repair round" : ""}: ${problems.join("; ")}. Try again, or another model.`,
  );

/**
 * Runs a code tool for the caller: asks the model for JSON, validates it against the tool's schema, and
 * (not streaming) makes one repair call with the problems when the first answer does not fit. Usage is
 * recorded per call with service `code`.
 * @example
 * const outcome = await runCodeTool({ ctx, tool: reviewTool, input, signal });
 */
export const runCodeTool = async <I extends ToolInput, S extends z.ZodType>({
  ctx,
  tool,
  input,
  signal,
}: {
  ctx: ServiceContext;
  tool: CodeTool<I, S>;
  input: I;
  signal?: AbortSignal | undefined;
}): Promise<CodeToolOutcome<z.output<S>>> => {
  const messages: ChatMessage[] = [
    { role: "system", content: tool.system(input) },
    { role: "user", content: tool.user(input) },
  ];
  const call = (conversation: ChatMessage[]): ModelCall => {
    const request: LlmRequest = {
      messages: conversation,
      temperature: TEMPERATURE,
      responseFormat: jsonSchemaFormat(`code_${tool.name}`, tool.output),
    };
    // An answer that failed validation must not be served again from cache, so none is cached.
    return { service: "code", model: input.model, request, cacheable: false, signal, apeSystemPrompts: true };
  };

  if (input.stream) {
    const stream = await streamForCaller({ ctx, call: call(messages) });
    const events = async function* (): AsyncIterable<CodeToolEvent<z.output<S>>> {
      let text = "";
      let usage: TokenUsage | null = null;
      let finish: FinishReason | null = null;
      for await (const event of stream.events) {
        if (event.type === "text") {
          text += event.text;
          yield { type: "delta", text: event.text };
        } else if (event.type === "usage") {
          usage = event.usage;
        } else if (event.type === "finish") {
          finish = event.reason;
        } else if (event.type === "error") {
          yield { type: "error", code: event.code, message: event.message };
          return;
        }
      }
      const parsed = validate(tool, input, text, finish);
      if (!parsed.ok) {
        const error = invalid(tool.name, parsed.problems, false);
        yield { type: "error", code: error.code, message: error.message };
        return;
      }
      const spent = usage ?? {
        inputTokens: estimateTokens(messages.map((message) => message.content).join("\n")),
        outputTokens: estimateTokens(text),
      };
      yield {
        type: "result",
        answer: {
          result: parsed.value,
          model: { provider: stream.provider, model: stream.model, cached: stream.cached },
          usage: {
            tokens_input: spent.inputTokens,
            tokens_output: spent.outputTokens,
            cost_usd: roundUsd(stream.costOf(spent)),
          },
          repaired: false,
        },
      };
    };
    return { kind: "stream", events: events() };
  }

  const first = await completeForCaller({ ctx, call: call(messages) });
  const answers: ModelAnswer[] = [first];
  let parsed = validate(tool, input, first.text, first.finishReason);
  if (!parsed.ok) {
    ctx.log.info("code tool answer invalid, asking for a repair", { tool: tool.name, problems: parsed.problems });
    const repair = await completeForCaller({
      ctx,
      call: call([
        ...messages,
        { role: "assistant", content: first.text },
        { role: "user", content: repairPrompt(parsed.problems) },
      ]),
    });
    answers.push(repair);
    parsed = validate(tool, input, repair.text, repair.finishReason);
    if (!parsed.ok) throw invalid(tool.name, parsed.problems, true);
  }
  const last = answers[answers.length - 1] ?? first;
  return {
    kind: "answer",
    answer: {
      result: parsed.value,
      model: { provider: last.provider, model: last.model, cached: answers.every((answer) => answer.cached) },
      usage: {
        tokens_input: answers.reduce((sum, answer) => sum + answer.usage.inputTokens, 0),
        tokens_output: answers.reduce((sum, answer) => sum + answer.usage.outputTokens, 0),
        cost_usd: roundUsd(answers.reduce((sum, answer) => sum + answer.costUsd, 0)),
      },
      repaired: answers.length > 1,
    },
  };
};
