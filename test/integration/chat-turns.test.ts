import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { conversations, messages, usageRecords } from "../../src/db/schema/index.js";
import type { ConversationRoom } from "../../src/services/chat/conversation-room.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";
import { deltas, readEvents } from "../helpers/sse-events.js";

// Chat turns end to end inside workerd: the API, the ConversationRoom Durable Object (turn lock, event
// buffer, resume), Postgres, and providers played by the wire fakes.
let h: Harness;
beforeAll(async () => {
  // Each test signs up a user of its own: more than the per-address sign-up limit allows in a minute.
  h = await createHarness({ RATE_LIMIT_AUTH_PER_MINUTE: "1000000" });
});

const setUp = async (settings: Record<string, string>, conversation: Record<string, unknown> = {}) => {
  const user = await h.signUp();
  const auth = h.bearer(user.tokens.access_token);
  const call = (path: string, init: RequestInit = {}) =>
    h.request(path, { ...init, headers: { ...auth, ...init.headers } }, settings);
  const created = await call("/api/v1/chat/conversations", h.json("POST", { title: "a chat", ...conversation }));
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const send = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    call(`/api/v1/chat/conversations/${id}/messages`, h.json("POST", body, headers));
  const stored = () =>
    h.withDb((db) => db.select().from(messages).where(eq(messages.conversationId, id)).orderBy(messages.id));
  /** Waits until the room's turn and its after-work (usage rows, the title) are done. */
  const idle = () => roomOf(id).idle();
  return { user, id, call, send, stored, idle };
};

const roomOf = (id: string) => {
  const namespace = env.CONVERSATION_ROOM as unknown as DurableObjectNamespace<ConversationRoom>;
  return namespace.get(namespace.idFromName(id));
};

describe("a chat turn", () => {
  it("answers JSON in the seed's shape, stores both messages, and reports its context window", async () => {
    const fakes = llmFakes();
    const { send, stored } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq" }));
    const res = await send({ content: "hello there" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { context: Record<string, number> };
    expect(body).toMatchObject({
      role: "assistant",
      content: "echo: hello there",
      model_used: "groq/llama-3.3-70b-versatile",
      tokens_used: 5,
      status: "complete",
      finish_reason: "stop",
    });
    expect(body.id).toMatch(/^msg_/);
    expect(body.context.window_tokens).toBe(131_072);
    expect(body.context.messages_included).toBe(1);
    const rows = await stored();
    expect(rows.map((row) => [row.role, row.content, row.status])).toEqual([
      ["user", "hello there", "complete"],
      ["assistant", "echo: hello there", "complete"],
    ]);
  });

  it("streams a turn as server-sent events with ids, and persists it", async () => {
    const fakes = llmFakes();
    const { send, stored } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq" }));
    const res = await send({ content: "stream a few words please" }, { accept: "text/event-stream" });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await readEvents(res);
    expect(events.map((e) => e.event).filter((e) => e !== "delta")).toEqual(["message", "context", "usage", "done"]);
    expect(events.every((e) => /^trn_[0-9A-Za-z]+\.\d+$/.test(e.id ?? ""))).toBe(true);
    expect(deltas(events)).toBe("echo: stream a few words please");
    await h.settled();
    expect((await stored()).map((row) => row.content)).toEqual([
      "stream a few words please",
      "echo: stream a few words please",
    ]);
  });

  it("lets a client that dropped resume with Last-Event-ID and get every delta exactly once, in order", async () => {
    const fakes = llmFakes();
    const { id, call, send } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq" }));
    await fakes.scriptGroq({ reply: "one two three four five six seven eight", chunkDelayMs: 40 });
    const first = await readEvents(
      await send({ content: "count", stream: true }),
      (events) => events.filter((e) => e.event === "delta").length >= 2,
    );
    const lastId = first.at(-1)?.id ?? "";
    const resumed = await call(`/api/v1/chat/conversations/${id}/stream`, { headers: { "last-event-id": lastId } });
    expect(resumed.status).toBe(200);
    const rest = await readEvents(resumed);
    expect(rest[0]?.id).not.toBe(lastId);
    expect(deltas(first) + deltas(rest)).toBe("one two three four five six seven eight");
    expect(rest.at(-1)?.event).toBe("done");
    // A finished turn can still be replayed from the start.
    const replay = await readEvents(await call(`/api/v1/chat/conversations/${id}/stream`));
    expect(deltas(replay)).toBe("one two three four five six seven eight");
    await h.settled();
  });

  it("answers a second send while a turn runs with 409 TURN_IN_PROGRESS", async () => {
    const fakes = llmFakes();
    const { send } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq" }));
    await fakes.scriptGroq({ reply: "a slow answer with several words", chunkDelayMs: 200 });
    const running = await send({ content: "first", stream: true });
    const second = await send({ content: "second" });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { code: string }).code).toBe("TURN_IN_PROGRESS");
    await readEvents(running);
    await h.settled();
  });

  it("cancels mid-stream: the partial answer is kept as cancelled and its usage is recorded", async () => {
    const fakes = llmFakes();
    const { id, user, call, send, stored, idle } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq" }));
    await fakes.scriptGroq({ reply: "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12", chunkDelayMs: 150 });
    const res = await send({ content: "go", stream: true });
    const events = await readEvents(res, (seen) => {
      if (seen.filter((e) => e.event === "delta").length === 2) {
        void call(`/api/v1/chat/conversations/${id}/cancel`, { method: "POST" });
      }
      return false;
    });
    await h.settled();
    await idle();
    expect(events.at(-1)?.event).toBe("done");
    const [, assistant] = await stored();
    expect(assistant?.status).toBe("cancelled");
    expect(assistant?.content.length).toBeGreaterThan(0);
    expect(assistant?.content).not.toContain("w12");
    expect("w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12".startsWith(assistant?.content ?? "x")).toBe(true);
    const usage = await h.withDb((db) => db.select().from(usageRecords).where(eq(usageRecords.userId, user.id)));
    expect(usage.map((row) => row.service)).toEqual(["chat"]);
  });

  it("falls back to another provider inside a stream before its first token", async () => {
    const fakes = llmFakes();
    const { send } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq,bedrock", LLM_MAX_ATTEMPTS: "1" }));
    await fakes.scriptGroq({ breakAfterChunks: 0 });
    const events = await readEvents(await send({ content: "who answers", stream: true }));
    expect(deltas(events)).toBe("echo: who answers");
    const done = events.find((e) => e.event === "done")?.data as { message: { model_used: string } };
    expect(done.message.model_used).toBe("bedrock/anthropic.claude-3-haiku-20240307-v1:0");
    await h.settled();
  });

  it("keeps the user message and the error of a failed turn, and answers it on retry", async () => {
    const fakes = llmFakes();
    const { send, stored } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq", LLM_MAX_ATTEMPTS: "1" }));
    await fakes.scriptGroq({ status: 500 });
    const failed = await send({ content: "try me" });
    expect(failed.status).toBe(502);
    let rows = await stored();
    expect(rows.map((row) => [row.role, row.status, row.error?.code ?? null])).toEqual([
      ["user", "complete", null],
      ["assistant", "failed", "ALL_PROVIDERS_FAILED"],
    ]);
    const retried = await send({ retry: true });
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as { content: string }).content).toBe("echo: try me");
    rows = await stored();
    expect(rows.filter((row) => row.role === "user")).toHaveLength(1);
  });
});

describe("the room's copy of the conversation", () => {
  it("refuses another user with 404 once the room holds the conversation, storing nothing", async () => {
    const fakes = llmFakes();
    const settings = fakes.env({ LLM_PROVIDER_ORDER: "groq" });
    const owner = await setUp(settings);
    expect((await owner.send({ content: "mine" })).status).toBe(200);
    const intruder = await h.signUp();
    const path = `/api/v1/chat/conversations/${owner.id}`;
    const headers = h.bearer(intruder.tokens.access_token);
    for (const [method, suffix, body] of [
      ["POST", "/messages", { content: "theirs" }],
      ["POST", "/messages", { retry: true }],
      ["GET", "/stream", undefined],
      ["POST", "/cancel", undefined],
    ] as const) {
      const res = await h.request(
        `${path}${suffix}`,
        body ? h.json(method, body, headers) : { method, headers },
        settings,
      );
      expect(res.status, `${method} ${suffix}`).toBe(404);
    }
    expect((await owner.stored()).map((row) => row.content)).toEqual(["mine", "echo: mine"]);
  });

  it("follows changes to the conversation: a new system prompt reaches the next turn", async () => {
    const fakes = llmFakes();
    const { id, call, send } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq" }));
    await send({ content: "first" });
    const patched = await call(
      `/api/v1/chat/conversations/${id}`,
      h.json("PATCH", { system_prompt: "Answer in French." }),
    );
    expect(patched.status).toBe(200);
    await send({ content: "second" });
    const sent = (await fakes.groqCalls()).at(-1)?.body as unknown as { messages: { role: string; content: string }[] };
    expect(sent.messages[0]).toEqual({ role: "system", content: "Answer in French." });
    expect(sent.messages.slice(1).map((m) => m.content)).toEqual(["first", "echo: first", "second"]);
  });
});

describe("the context window", () => {
  it("summarises older turns once with the fast tier, and reuses the summary on the next turn", async () => {
    const fakes = llmFakes();
    // A 600-token window: 150 kept for the reply, 450 for the rest. Each long message is about 204 tokens.
    const settings = fakes.env({ LLM_PROVIDER_ORDER: "compat", OPENAI_COMPATIBLE_CONTEXT_WINDOW: "600" });
    const { id, send } = await setUp(settings, { model: "compat" });
    const long = (word: string) => `${word} `.repeat(200).slice(0, 800); // 800 characters: 204 tokens
    await fakes.scriptCompat({ reply: "ok", times: 2 });
    expect((await send({ content: long("alpha") })).status).toBe(200);
    expect((await send({ content: long("bravo") })).status).toBe(200);
    // The third turn no longer fits: the oldest message is summarised first, then the turn is answered.
    await fakes.scriptCompat({ reply: "EARLIER: the user repeated alpha." });
    await fakes.scriptCompat({ reply: "ok" });
    const third = (await (await send({ content: long("charlie") })).json()) as { context: Record<string, number> };
    expect(third.context.messages_summarised).toBe(2); // alpha, and its answer (kept turns start with the user)
    expect(third.context.summary_tokens).toBeGreaterThan(0);
    const [conversation] = await h.withDb((db) => db.select().from(conversations).where(eq(conversations.id, id)));
    expect(conversation?.summary).toBe("EARLIER: the user repeated alpha.");

    // The next turn fits with the stored summary: no new summary call, and the summary stands in for alpha.
    await fakes.scriptCompat({ reply: "ok" });
    const fourth = (await (await send({ content: "and then?" })).json()) as { context: Record<string, number> };
    expect(fourth.context.messages_summarised).toBe(0);
    const calls = await fakes.compatCalls();
    type Sent = { messages: { role: string; content: string }[] };
    const sent = calls.map((c) => c.body as unknown as Sent);
    expect(sent).toHaveLength(5); // four turns and one summary
    const last = sent.at(-1)?.messages ?? [];
    expect(last.some((m) => m.role === "system" && m.content.includes("EARLIER: the user repeated alpha."))).toBe(true);
    expect(last.some((m) => m.content.includes("alpha alpha"))).toBe(false);
  });

  it("refuses a message larger than the window with 400 MESSAGE_TOO_LONG, storing nothing", async () => {
    const fakes = llmFakes();
    const settings = fakes.env({ LLM_PROVIDER_ORDER: "compat", OPENAI_COMPATIBLE_CONTEXT_WINDOW: "600" });
    const { send, stored } = await setUp(settings, { model: "compat" });
    const res = await send({ content: "x".repeat(4_000) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("MESSAGE_TOO_LONG");
    expect(await stored()).toHaveLength(0);
  });
});

describe("titles and deletion", () => {
  it("names an untitled conversation after its first exchange", async () => {
    const fakes = llmFakes();
    const { id, send, idle } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq" }), { title: undefined });
    await fakes.scriptGroq({ reply: "Sure, here is a plan." });
    await fakes.scriptGroq({ reply: '"Weekend In Rome."' });
    await send({ content: "plan a weekend in Rome" });
    // The title is made after the answer, in the room.
    await idle();
    const [row] = await h.withDb((db) => db.select().from(conversations).where(eq(conversations.id, id)));
    expect(row?.title).toBe("Weekend In Rome");
  });

  it("deletes the conversation's Durable Object state with it", async () => {
    const fakes = llmFakes();
    const { id, call, send } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq" }));
    await send({ content: "remember this" });
    const room = roomOf(id);
    expect(await room.stats()).toMatchObject({ turns: 1, messages: 2 });
    expect((await call(`/api/v1/chat/conversations/${id}`, { method: "DELETE" })).status).toBe(204);
    expect(await room.stats()).toEqual({ turns: 0, events: 0, messages: 0 });
    expect((await call(`/api/v1/chat/conversations/${id}/stream`)).status).toBe(404);
  });
});
