import { z } from "@hono/zod-openapi";
import { MessageSchema } from "./schemas.js";

export const MAX_MESSAGE_LENGTH = 100_000;

export const SendMessageBodySchema = z
  .object({
    content: z
      .string()
      .min(1)
      .max(MAX_MESSAGE_LENGTH, `must be at most ${MAX_MESSAGE_LENGTH} characters`)
      .optional()
      .openapi({
        description: "What the user says. Required unless `retry` is true.",
        example: "How does async/await work in Python?",
      }),
    model: z.string().min(1).max(200).optional().openapi({
      description:
        "The model for this turn only (`auto`, `fast`, `quality`, a provider or `provider/model`); the conversation's by default.",
      example: "auto",
    }),
    stream: z.boolean().optional().openapi({
      description: "Answer as server-sent events (the same as sending `Accept: text/event-stream`).",
      example: true,
    }),
    retry: z.boolean().optional().openapi({
      description: "Answer the last user message again (after a failed turn) instead of sending a new one.",
      example: false,
    }),
  })
  .openapi("SendMessageRequest");

export const ContextReportSchema = z
  .object({
    window_tokens: z.number().int().openapi({ description: "The model's context window.", example: 131072 }),
    reply_tokens: z.number().int().openapi({ description: "Kept free for the reply.", example: 8192 }),
    system_prompt_tokens: z.number().int().openapi({ description: "Spent on the system prompt.", example: 40 }),
    summary_tokens: z.number().int().openapi({ description: "Spent on the summary of older turns.", example: 180 }),
    history_tokens: z.number().int().openapi({ description: "Spent on the turns sent whole.", example: 2300 }),
    documents_tokens: z.number().int().openapi({ description: "Spent on passages of attached documents.", example: 0 }),
    free_tokens: z.number().int().openapi({ description: "Left unused in the window.", example: 120560 }),
    messages_included: z
      .number()
      .int()
      .openapi({ description: "Messages sent whole, the new one included.", example: 12 }),
    messages_summarised: z
      .number()
      .int()
      .openapi({ description: "Older messages folded into the summary this turn.", example: 0 }),
  })
  .openapi("ContextReport");

export const TurnAnswerSchema = MessageSchema.extend({
  context: ContextReportSchema.nullable().openapi({
    description: "How the context window was spent for this answer (estimated tokens).",
    example: {
      window_tokens: 131072,
      reply_tokens: 8192,
      system_prompt_tokens: 40,
      summary_tokens: 0,
      history_tokens: 2300,
      documents_tokens: 0,
      free_tokens: 120540,
      messages_included: 12,
      messages_summarised: 0,
    },
  }),
}).openapi("TurnAnswer");

export const CancelAnswerSchema = z
  .object({
    cancelled: z.boolean().openapi({ description: "Whether a running turn was asked to stop.", example: true }),
    turn_id: z
      .string()
      .nullable()
      .openapi({ description: "The turn that was stopped, if any.", example: "trn_01JD8X3Q4W5E6R7T8Y9U0I1O2P" }),
  })
  .openapi("CancelAnswer");

/** Described once for the OpenAPI document: what the SSE routes send. */
export const TURN_EVENTS_DESCRIPTION = [
  "Server-sent events, each with an `id` (`{turn}.{seq}`) to resume from:",
  "`message` (the user message, stored), `context` (how the window is spent), `delta` (`{text}`, in order),",
  "`usage` (`{tokens_input, tokens_output}`), then `done` (`{message, context}`: the stored assistant message) or",
  "`error` (`{code, message, message_id}`; `TURN_INTERRUPTED` when the server running the turn went away). Ids",
  "increase within a turn, and turn ids sort by time. The turn runs on the server whoever listens: after a",
  "disconnect, `GET …/stream` with `Last-Event-ID` sends only what was missed, then the live rest, never twice.",
].join(" ");
