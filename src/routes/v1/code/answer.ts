import { createRoute, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import type { CodeToolOutcome } from "../../../services/code/run-code-tool.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";

const STREAMING = [
  'With `stream: true` the answer is server-sent events: `event: delta` with `data: {"text": "…"}` for each piece of the model\'s JSON as it arrives, then `event: result` with the same body as the JSON answer once the whole answer has been validated. If it does not validate (there is no repair round when streaming), or the provider fails mid-stream, the last event is `event: error` with `data: {"code", "message"}` instead.',
  "Failures before the first token (no provider, budget spent, every provider down) are problem+json answers as usual. A model answer that does not match the shape after one repair call answers 502 `MODEL_OUTPUT_INVALID` naming the fields at fault.",
  "API keys need the `code` scope. Every model call is recorded in the caller's usage with service `code`.",
].join("\n\n");

/**
 * The OpenAPI route of a code tool: POST, `code` scope, JSON or server-sent events.
 * @example
 * export const reviewCodeRoute = codeToolRoute({ path: "/code/review", summary, description, body, answer });
 */
export const codeToolRoute = <B extends z.ZodType, A extends z.ZodType>(options: {
  path: string;
  summary: string;
  description: string;
  body: B;
  answer: A;
}) =>
  createRoute({
    method: "post",
    path: options.path,
    tags: ["code"],
    summary: options.summary,
    description: `${options.description}\n\n${STREAMING}`,
    security: sessionOrApiKey,
    middleware: [requireAuth("code"), rateLimit("default")] as const,
    request: { body: { required: true, content: { "application/json": { schema: options.body } } } },
    responses: {
      200: {
        description: "The validated answer (JSON), or with `stream: true` a stream of events (`text/event-stream`).",
        content: {
          "application/json": { schema: options.answer },
          "text/event-stream": { schema: { type: "string" } },
        },
      },
      ...problemResponses(400, 401, 402, 403, 413, 415, 422, 429, 502, 503),
    },
  });

/**
 * Sends a code tool's outcome: the answer as JSON, or its events as server-sent events.
 * @example
 * return sendCodeToolAnswer(c, await reviewCode({ ctx, input, signal }));
 */
export const sendCodeToolAnswer = <T>(c: Context, outcome: CodeToolOutcome<T>): Response => {
  if (outcome.kind === "answer") return c.json(outcome.answer, 200);
  return streamSSE(c, async (sse) => {
    for await (const event of outcome.events) {
      if (sse.aborted) break;
      const data =
        event.type === "delta"
          ? { text: event.text }
          : event.type === "result"
            ? event.answer
            : { code: event.code, message: event.message };
      await sse.writeSSE({ event: event.type, data: JSON.stringify(data) });
    }
  });
};
