import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { messages } from "../../src/db/schema/index.js";
import type { ConversationRoom } from "../../src/services/chat/conversation-room.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";

// DELETE /chat/conversations/{id}/messages/{message_id}: what regenerate and edit-and-resend start with.
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ RATE_LIMIT_AUTH_PER_MINUTE: "1000000" });
});

type Body = { messages?: { role: string; content: string }[] } | null;

const setUp = async () => {
  const fakes = llmFakes();
  const settings = fakes.env({ LLM_PROVIDER_ORDER: "groq" });
  const user = await h.signUp();
  const auth = h.bearer(user.tokens.access_token);
  const call = (path: string, init: RequestInit = {}) =>
    h.request(path, { ...init, headers: { ...auth, ...init.headers } }, settings);
  const created = await call("/api/v1/chat/conversations", h.json("POST", { title: "a chat" }));
  const { id } = (await created.json()) as { id: string };
  const send = (content: string) => call(`/api/v1/chat/conversations/${id}/messages`, h.json("POST", { content }));
  const stored = () =>
    h.withDb((db) => db.select().from(messages).where(eq(messages.conversationId, id)).orderBy(messages.id));
  const deleteFrom = (messageId: string, headers = auth) =>
    h.request(`/api/v1/chat/conversations/${id}/messages/${messageId}`, { method: "DELETE", headers }, settings);
  return { fakes, id, call, send, stored, deleteFrom };
};

describe("deleting a message and what follows", () => {
  it("takes the conversation back, so the next turn's context no longer holds the deleted exchange", async () => {
    const { fakes, send, stored, deleteFrom } = await setUp();
    expect((await send("first question")).status).toBe(200);
    expect((await send("second question")).status).toBe(200);
    await h.settled();
    const before = await stored();
    expect(before.map((m) => m.content)).toEqual([
      "first question",
      "echo: first question",
      "second question",
      "echo: second question",
    ]);
    const secondQuestion = before[2];
    const res = await deleteFrom(secondQuestion?.id ?? "");
    expect(res.status).toBe(204);
    expect((await stored()).map((m) => m.content)).toEqual(["first question", "echo: first question"]);

    // Edit and resend: the new text goes out with only the first exchange before it.
    expect((await send("second question, edited")).status).toBe(200);
    await h.settled();
    const calls = await fakes.groqCalls();
    const last = (calls.at(-1)?.body as Body)?.messages?.map((m) => m.content) ?? [];
    expect(last.join("\n")).toContain("second question, edited");
    expect(last.join("\n")).not.toContain("echo: second question");
    expect(last.filter((content) => content === "second question")).toEqual([]);
    expect((await stored()).map((m) => m.content)).toEqual([
      "first question",
      "echo: first question",
      "second question, edited",
      "echo: second question, edited",
    ]);
  });

  it("answers 404 for an unknown or malformed message id, and for another user's conversation", async () => {
    const { send, stored, deleteFrom } = await setUp();
    expect((await send("hello")).status).toBe(200);
    await h.settled();
    expect((await deleteFrom("msg_01JD8Z7A2B3C4D5E6F7G8H9J0K")).status).toBe(404);
    expect((await deleteFrom("not-an-id")).status).toBe(404);
    const intruder = await h.signUp();
    const first = (await stored())[0]?.id ?? "";
    const foreign = await deleteFrom(first, h.bearer(intruder.tokens.access_token));
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as { code: string }).code).toBe("NOT_FOUND");
    expect(await stored()).toHaveLength(2);
  });

  it("answers 409 TURN_IN_PROGRESS while a turn runs, and deletes nothing", async () => {
    const { fakes, id, call, stored, deleteFrom } = await setUp();
    await fakes.scriptGroq({ reply: "a slow answer with several words in it", chunkDelayMs: 200 });
    const running = await call(
      `/api/v1/chat/conversations/${id}/messages`,
      h.json("POST", { content: "slowly", stream: true }),
    );
    // The user message is stored before the first token; wait for it.
    const reader = (running.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    let first: string | undefined;
    for (let i = 0; i < 50 && !first; i++) first = (await stored())[0]?.id;
    const res = await deleteFrom(first ?? "");
    expect(res.status).toBe(409);
    expect(((await res.json()) as { code: string }).code).toBe("TURN_IN_PROGRESS");
    for (;;) if ((await reader.read()).done) break;
    await h.settled();
    expect((await stored()).map((m) => m.content)).toEqual(["slowly", "a slow answer with several words in it"]);
  });

  it("keeps sends out while it deletes: a send in between answers 409, and is accepted once the hold ends", async () => {
    const { id, send, stored } = await setUp();
    expect((await send("first question")).status).toBe(200);
    await h.settled();
    // The hold the delete takes for the time its Postgres change runs, taken here directly on the room.
    const namespace = env.CONVERSATION_ROOM as unknown as DurableObjectNamespace<ConversationRoom>;
    const room = namespace.get(namespace.idFromName(id));
    expect(await room.holdTurns("trn_hold")).toEqual({ held: true, turnId: null });
    expect(await room.holdTurns("trn_other")).toEqual({ held: false, turnId: null });
    const during = await send("sent while messages change");
    expect(during.status).toBe(409);
    expect(((await during.json()) as { code: string }).code).toBe("TURN_IN_PROGRESS");
    await room.releaseTurns("trn_hold");
    expect((await send("sent after")).status).toBe(200);
    await h.settled();
    expect((await stored()).map((m) => m.content)).toEqual([
      "first question",
      "echo: first question",
      "sent after",
      "echo: sent after",
    ]);
  });
});
