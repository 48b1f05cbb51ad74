import { and, asc, count, desc, eq, gt, ilike, lt, sql } from "drizzle-orm";
import { type Conversation, conversations, type Message, messages } from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import { isId } from "../../lib/ids.js";
import { configuredProviders } from "../../llm/providers/index.js";
import { resolveCandidates } from "../../llm/router.js";
import { requireUser, type ServiceContext } from "../context.js";
import { requireDocumentIds } from "../documents/documents.js";
import { destroyRoom, roomOf } from "./room-client.js";

// The same answer for an id that is malformed, unknown or someone else's, so ids reveal nothing.
const notFound = (id: string) => new ApiError("NOT_FOUND", `No conversation ${id}.`);

/** `%`, `_` and the escape character itself match literally in a LIKE pattern once escaped. */
const likeContaining = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/**
 * Refuses a model no configured provider answers to (400 `UNKNOWN_MODEL`), a provider that is not configured
 * included: the router calls that a 503 when a message is sent, but here it is the request that names it. With
 * no provider configured at all any model is kept: the deployment may add one later, and sending a message
 * then reports what is missing.
 */
const assertKnownModel = (ctx: ServiceContext, model: string) => {
  const set = configuredProviders(ctx.env);
  if (set.order.length === 0) return;
  try {
    resolveCandidates(set, model);
  } catch (error) {
    if (error instanceof ApiError && error.code === "NO_PROVIDER_CONFIGURED") {
      throw new ApiError("UNKNOWN_MODEL", `No configured provider answers to "${model}".`, { cause: error });
    }
    throw error;
  }
};

/** What a conversation's messages add up to. */
export type ConversationTotals = { messageCount: number; tokens: number };

const baseConversation = (row: Conversation) => ({
  id: row.id,
  title: row.title,
  model: row.model,
  system_prompt: row.systemPrompt,
  document_ids: row.allDocuments ? ("all" as const) : row.documentIds,
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});

type PublicConversation = ReturnType<typeof baseConversation>;

/**
 * A conversation as the API shows it; with `totals`, also its message count and token usage so far (declared
 * as overloads, so the answer's type has those fields exactly when they were given).
 * @example
 * c.json(publicConversation(row, { messageCount: 0, tokens: 0 }), 201);
 */
export function publicConversation(row: Conversation): PublicConversation;
export function publicConversation(
  row: Conversation,
  totals: ConversationTotals,
): PublicConversation & { message_count: number; usage: { tokens: number } };
export function publicConversation(row: Conversation, totals?: ConversationTotals) {
  const base = baseConversation(row);
  return totals ? { ...base, message_count: totals.messageCount, usage: { tokens: totals.tokens } } : base;
}

/** A message as the API shows it. */
export const publicMessage = (row: Message) => ({
  id: row.id,
  conversation_id: row.conversationId,
  role: row.role,
  content: row.content,
  model_used: row.modelUsed,
  tokens_used: row.tokensUsed,
  status: row.status,
  finish_reason: row.finishReason,
  error: row.error ?? null,
  citations: row.citations ?? null,
  created_at: row.createdAt.toISOString(),
});

/**
 * The owner check every conversation route starts with: the caller's conversation, or 404 `NOT_FOUND` when
 * the id is malformed, unknown or another user's (the same answer for all three).
 * @example
 * const conversation = await requireConversation({ ctx, id: params.id });
 */
export const requireConversation = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const userId = requireUser(ctx);
  if (!isId("conv", id)) throw notFound(id);
  const [row] = await ctx.db
    .select()
    .from(conversations)
    .where(and(eq(conversations.id, id), eq(conversations.userId, userId)))
    .limit(1);
  if (!row) throw notFound(id);
  return row;
};

/** The columns `document_ids` sets: its ids (each the caller's, else 404) or "all". */
const groundingOf = async (ctx: ServiceContext, documentIds: string[] | "all") =>
  documentIds === "all"
    ? { documentIds: [], allDocuments: true }
    : { documentIds: await requireDocumentIds({ ctx, ids: documentIds }), allDocuments: false };

/**
 * Starts a conversation for the caller. The model is checked against the configured providers now, so a
 * typo is a 400 here rather than on the first message.
 * @example
 * const conversation = await createConversation({ ctx, input: { title: "Trip", model: "auto", document_ids: [] } });
 */
export const createConversation = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    title?: string | undefined;
    model: string;
    system_prompt?: string | undefined;
    document_ids: string[] | "all";
  };
}) => {
  const userId = requireUser(ctx);
  assertKnownModel(ctx, input.model);
  const grounding = await groundingOf(ctx, input.document_ids);
  const [row] = await ctx.db
    .insert(conversations)
    .values({
      userId,
      title: input.title ?? null,
      model: input.model,
      systemPrompt: input.system_prompt ?? null,
      ...grounding,
    })
    .returning();
  if (!row) throw new Error("conversation insert returned nothing");
  ctx.audit({ action: "conversation.create", resourceType: "conversation", resourceId: row.id });
  return publicConversation(row, { messageCount: 0, tokens: 0 });
};

/** The caller's conversations, newest first, cursor-paginated; `q` keeps those whose title contains it. */
export const listConversations = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { limit: number; cursor?: string | undefined; q?: string | undefined };
}) => {
  const userId = requireUser(ctx);
  const rows = await ctx.db
    .select()
    .from(conversations)
    .where(
      and(
        eq(conversations.userId, userId),
        input.cursor ? lt(conversations.id, input.cursor) : undefined,
        input.q ? ilike(conversations.title, likeContaining(input.q)) : undefined,
      ),
    )
    .orderBy(desc(conversations.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  return {
    items: page.map((row) => publicConversation(row)),
    next_cursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
  };
};

/** One of the caller's conversations, with its message count and the tokens its messages used, in one query. */
export const getConversation = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const userId = requireUser(ctx);
  if (!isId("conv", id)) throw notFound(id);
  const [found] = await ctx.db
    .select({
      conversation: conversations,
      messageCount: count(messages.id),
      tokens: sql<number>`coalesce(sum(${messages.tokensUsed}), 0)`.mapWith(Number),
    })
    .from(conversations)
    .leftJoin(messages, eq(messages.conversationId, conversations.id))
    .where(and(eq(conversations.id, id), eq(conversations.userId, userId)))
    .groupBy(conversations.id);
  if (!found) throw notFound(id);
  return publicConversation(found.conversation, { messageCount: found.messageCount, tokens: found.tokens });
};

/**
 * Changes a conversation's title, model and/or system prompt; null clears the title or the prompt. A body
 * with nothing to change answers the conversation as it is.
 */
export const updateConversation = async ({
  ctx,
  id,
  input,
}: {
  ctx: ServiceContext;
  id: string;
  input: {
    title?: string | null | undefined;
    model?: string | undefined;
    system_prompt?: string | null | undefined;
    document_ids?: string[] | "all" | undefined;
  };
}) => {
  const userId = requireUser(ctx);
  if (!isId("conv", id)) throw notFound(id);
  if (input.model !== undefined) assertKnownModel(ctx, input.model);
  const grounding = input.document_ids !== undefined ? await groundingOf(ctx, input.document_ids) : {};
  const changes = {
    ...(input.title !== undefined ? { title: input.title } : {}),
    ...(input.model !== undefined ? { model: input.model } : {}),
    ...(input.system_prompt !== undefined ? { systemPrompt: input.system_prompt } : {}),
    ...grounding,
  };
  if (Object.keys(changes).length > 0) {
    const [row] = await ctx.db
      .update(conversations)
      .set(changes)
      .where(and(eq(conversations.id, id), eq(conversations.userId, userId)))
      .returning({ id: conversations.id });
    if (!row) throw notFound(id);
    // The room's copy of what turns need follows the record.
    await roomOf(ctx, id).updateConversation(changes);
    ctx.audit({
      action: "conversation.update",
      resourceType: "conversation",
      resourceId: id,
      details: { fields: Object.keys(changes) },
    });
  }
  return getConversation({ ctx, id });
};

/** Deletes one of the caller's conversations with its messages, and its Durable Object's state first. */
export const deleteConversation = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const conversation = await requireConversation({ ctx, id });
  await destroyRoom({ ctx, conversationId: conversation.id });
  await ctx.db
    .delete(conversations)
    .where(and(eq(conversations.id, conversation.id), eq(conversations.userId, conversation.userId)));
  ctx.audit({ action: "conversation.delete", resourceType: "conversation", resourceId: conversation.id });
};

/** A conversation's messages, oldest first, cursor-paginated (`cursor` is the last id seen). */
export const listMessages = async ({
  ctx,
  id,
  input,
}: {
  ctx: ServiceContext;
  id: string;
  input: { limit: number; cursor?: string | undefined };
}) => {
  const conversation = await requireConversation({ ctx, id });
  const rows = await ctx.db
    .select()
    .from(messages)
    .where(and(eq(messages.conversationId, conversation.id), input.cursor ? gt(messages.id, input.cursor) : undefined))
    .orderBy(asc(messages.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  return { items: page.map(publicMessage), next_cursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null };
};
