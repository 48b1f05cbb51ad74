import { z } from "@hono/zod-openapi";
import { messageRoles, messageStatuses } from "../../../db/schema/messages.js";
import { NextCursorSchema, PageQuerySchema } from "../../pagination.js";

const CONVERSATION_ID = "conv_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z";
const MESSAGE_ID = "msg_01JD8Z7A2B3C4D5E6F7G8H9J0K";

export const MAX_TITLE_LENGTH = 255;
export const MAX_MODEL_LENGTH = 200;
export const MAX_SYSTEM_PROMPT_LENGTH = 20_000;
export const MAX_DOCUMENT_IDS = 50;

const title = z
  .string()
  .trim()
  .min(1)
  .max(MAX_TITLE_LENGTH)
  .openapi({ description: "A title to recognise the conversation by.", example: "Planning the Lisbon offsite" });

const model = z.string().trim().min(1).max(MAX_MODEL_LENGTH).openapi({
  description:
    "The model to answer with: `auto` (APE picks, falling back across providers), `fast` or `quality`, a provider (`groq`, `bedrock`, `openai`, `compat`), or `provider/model`. Checked against the configured providers: an unknown one is 400 `UNKNOWN_MODEL`.",
  example: "auto",
});

const systemPrompt = z
  .string()
  .min(1)
  .max(MAX_SYSTEM_PROMPT_LENGTH)
  .openapi({
    description: `Instructions the model receives before every turn, at most ${MAX_SYSTEM_PROMPT_LENGTH} characters.`,
    example: "You are a concise travel planner. Answer in bullet points.",
  });

const documentIds = z.union([z.array(z.string().min(1).max(100)).max(MAX_DOCUMENT_IDS), z.literal("all")]).openapi({
  description: `Documents whose passages ground the answers, each answer citing them as \`[n]\`: up to ${MAX_DOCUMENT_IDS} ids of your documents (another id is 404), \`all\` for every document you have now or later, or empty for none.`,
  example: "all",
});

export const CitationSchema = z
  .object({
    n: z.number().int().openapi({ description: "The number the answer cites it by, as `[n]`.", example: 1 }),
    document_id: z.string().openapi({ description: "The cited document.", example: "doc_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z" }),
    filename: z.string().openapi({ description: "Its name.", example: "lease.pdf" }),
    page: z.number().int().openapi({ description: "The page the passage is on.", example: 2 }),
    char_start: z.number().int().openapi({ description: "Where the passage starts in the page's text.", example: 0 }),
    char_end: z.number().int().openapi({ description: "Where it ends.", example: 96 }),
    quote: z.string().openapi({
      description: "The passage (up to about 400 characters).",
      example: "Either party may end the lease early by paying a termination fee of two months rent.",
    }),
  })
  .openapi("Citation");

export const ConversationSchema = z
  .object({
    id: z.string().openapi({ description: "The conversation's id.", example: CONVERSATION_ID }),
    title: z
      .string()
      .nullable()
      .openapi({ description: "Its title, if it has one.", example: "Planning the Lisbon offsite" }),
    model: z.string().openapi({ description: "The model it asks for (`auto` unless chosen).", example: "auto" }),
    system_prompt: z.string().nullable().openapi({
      description: "Instructions the model receives before every turn, if any.",
      example: "You are a concise travel planner. Answer in bullet points.",
    }),
    document_ids: z.union([z.array(z.string()), z.literal("all")]).openapi({
      description:
        "Documents whose passages ground the answers (each answer cites them as `[n]`): a list of ids, `all` for every document you have, or empty for none.",
      example: ["doc_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z"],
    }),
    created_at: z.string().openapi({ description: "When it was started.", example: "2026-11-25T10:30:00.000Z" }),
    updated_at: z.string().openapi({ description: "When it last changed.", example: "2026-11-25T10:45:00.000Z" }),
  })
  .openapi("Conversation");

export const ConversationUsageSchema = z
  .object({
    tokens: z
      .number()
      .int()
      .openapi({ description: "Tokens the conversation's messages used, summed.", example: 1_450 }),
  })
  .openapi("ConversationUsage");

export const ConversationDetailSchema = ConversationSchema.extend({
  message_count: z.number().int().openapi({ description: "How many messages it holds.", example: 4 }),
  usage: ConversationUsageSchema.openapi({ description: "What it has used so far.", example: { tokens: 1_450 } }),
}).openapi("ConversationDetail");

export const ConversationPageSchema = z
  .object({
    items: z.array(ConversationSchema).openapi({ description: "Conversations, newest first.", example: [] }),
    next_cursor: NextCursorSchema,
  })
  .openapi("ConversationPage");

export const ConversationListQuerySchema = z.object({
  ...PageQuerySchema.shape,
  cursor: z.string().max(64).optional().openapi({
    description: "`next_cursor` of the previous page; omit for the first.",
    example: CONVERSATION_ID,
  }),
  q: z.string().max(MAX_TITLE_LENGTH).optional().openapi({
    description: "Only conversations whose title contains this text, ignoring case.",
    example: "lisbon",
  }),
});

export const CreateConversationBodySchema = z
  .object({
    title: title.optional(),
    model: model.default("auto"),
    system_prompt: systemPrompt.optional(),
    document_ids: documentIds.default([]),
  })
  .openapi("CreateConversationRequest");

export const UpdateConversationBodySchema = z
  .object({
    title: title.nullable().optional().openapi({ description: "A new title; null clears it.", example: "Lisbon, May" }),
    model: model.optional(),
    system_prompt: systemPrompt
      .nullable()
      .optional()
      .openapi({
        description: `New instructions for every turn, at most ${MAX_SYSTEM_PROMPT_LENGTH} characters; null clears them.`,
        example: "You are a concise travel planner.",
      }),
    document_ids: documentIds.optional(),
  })
  .openapi("UpdateConversationRequest");

export const ConversationParamsSchema = z.object({
  // No length or format rule here: a malformed id answers 404 like an unknown one, not 400.
  id: z.string().openapi({
    param: { name: "id", in: "path" },
    description: "The conversation's id.",
    example: CONVERSATION_ID,
  }),
});

export const MessageErrorSchema = z
  .object({
    code: z.string().openapi({ description: "A stable code for what went wrong.", example: "ALL_PROVIDERS_FAILED" }),
    message: z.string().openapi({ description: "What went wrong, for people.", example: "Every LLM provider failed." }),
  })
  .openapi("MessageError");

export const MessageSchema = z
  .object({
    id: z.string().openapi({ description: "The message's id.", example: MESSAGE_ID }),
    conversation_id: z.string().openapi({ description: "The conversation it belongs to.", example: CONVERSATION_ID }),
    role: z.enum(messageRoles).openapi({ description: "Who wrote it.", example: "assistant" }),
    content: z.string().openapi({
      description: "Its text (for a cancelled answer, what had arrived).",
      example: "Async/await in Python is a way to write...",
    }),
    model_used: z.string().nullable().openapi({
      description: "The provider and model that wrote an answer; null for the user's messages.",
      example: "groq/llama-3.1-8b-instant",
    }),
    tokens_used: z.number().int().nullable().openapi({
      description: "Tokens the answer used, input and output; null for the user's messages.",
      example: 450,
    }),
    status: z.enum(messageStatuses).openapi({
      description: "Whether it is whole, was stopped by the user, or failed (see `error`).",
      example: "complete",
    }),
    finish_reason: z
      .string()
      .nullable()
      .openapi({ description: "Why the model stopped, when it says.", example: "stop" }),
    error: MessageErrorSchema.nullable().openapi({ description: "Why a failed answer failed.", example: null }),
    citations: z.array(CitationSchema).nullable().openapi({
      description:
        "A grounded answer's citations: each `[n]` in `content` names one. Checked by code: a number that named no retrieved passage was removed. Null for answers that were not grounded.",
      example: null,
    }),
    created_at: z.string().openapi({ description: "When it was written.", example: "2026-11-25T10:30:00.000Z" }),
  })
  .openapi("Message");

export const MessagePageSchema = z
  .object({
    items: z.array(MessageSchema).openapi({ description: "Messages, oldest first.", example: [] }),
    next_cursor: NextCursorSchema,
  })
  .openapi("MessagePage");

export const MessageListQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .default(50)
    .openapi({ description: "Messages per page, 1 to 200.", example: 50 }),
  cursor: z.string().max(64).optional().openapi({
    description: "The last message id seen (`next_cursor` of the previous page); omit to start at the first.",
    example: MESSAGE_ID,
  }),
});
