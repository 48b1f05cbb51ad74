import { and, eq, sql } from "drizzle-orm";
import { conversations } from "../../db/schema/index.js";
import { untrusted, untrustedDataRule } from "../../llm/prompts.js";
import type { ServiceContext } from "../context.js";
import { completeForCaller } from "../llm/call-model.js";

const TITLE_MAX = 80;

/**
 * A short title from the first exchange, made after the turn (fast tier), for a conversation that has none;
 * `onNamed` hears the title once it is stored. Failures only cost the title.
 * @example
 * ctx.defer(nameConversation({ ctx, conversationId, question, reply, onNamed: (title) => copy.update({ title }) }));
 */
export const nameConversation = async (options: {
  ctx: ServiceContext;
  conversationId: string;
  question: string;
  reply: string;
  onNamed: (title: string) => void;
}) => {
  const { ctx } = options;
  try {
    const answer = await completeForCaller({
      ctx,
      call: {
        service: "chat",
        model: "fast",
        apeSystemPrompts: true,
        request: {
          messages: [
            {
              role: "system",
              content: `Give the conversation a title of at most six words. Answer with the title only. ${untrustedDataRule("exchange")}`,
            },
            {
              role: "user",
              content: untrusted("exchange", `user: ${options.question}\n\nassistant: ${options.reply}`),
            },
          ],
          temperature: 0,
          maxTokens: 24,
        },
      },
    });
    const title = answer.text.replace(/^["'\s]+|["'\s.]+$/g, "").slice(0, TITLE_MAX);
    if (!title) return;
    const [named] = await ctx.db
      .update(conversations)
      .set({ title })
      .where(and(eq(conversations.id, options.conversationId), sql`${conversations.title} is null`))
      .returning({ id: conversations.id });
    if (named) options.onNamed(title);
  } catch (error) {
    ctx.log.warn("conversation title not generated", { error });
  }
};
