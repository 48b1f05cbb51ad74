import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { messages } from "../../src/db/schema/index.js";
import type { ConversationRoom } from "../../src/services/chat/conversation-room.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";
import { deltas, readEvents, type SseEvent } from "../helpers/sse-events.js";

// The turn runs in the conversation's ConversationRoom, not in the Worker that took the send: what that
// means for a client that leaves, a cancel, a room whose instance is gone, and clients that follow or resume.
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ RATE_LIMIT_AUTH_PER_MINUTE: "1000000" });
});

const roomOf = (id: string) => {
  const namespace = env.CONVERSATION_ROOM as unknown as DurableObjectNamespace<ConversationRoom>;
  return namespace.get(namespace.idFromName(id));
};

const REPLY = "one two three four five six seven eight nine ten eleven twelve";
// Long enough (at 100-250 ms a word) that the turn is still running whatever a loaded machine delays.
const LONG_REPLY = Array.from({ length: 40 }, (_, i) => `word${i + 1}`).join(" ");

const setUp = async () => {
  const fakes = llmFakes();
  const settings = fakes.env({ LLM_PROVIDER_ORDER: "groq", LLM_MAX_ATTEMPTS: "1" });
  const user = await h.signUp();
  const auth = h.bearer(user.tokens.access_token);
  const withAuth = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...auth, ...init.headers } });
  const call = (path: string, init: RequestInit = {}) => h.request(path, withAuth(init), settings);
  const created = await call("/api/v1/chat/conversations", h.json("POST", { title: "a chat" }));
  const { id } = (await created.json()) as { id: string };
  const base = `/api/v1/chat/conversations/${id}`;
  const sendStream = (content: string) =>
    h.dispatch(`${base}/messages`, withAuth(h.json("POST", { content, stream: true })), settings);
  const follow = (headers: Record<string, string> = {}, query = "") => call(`${base}/stream${query}`, { headers });
  const stored = () =>
    h.withDb((db) => db.select().from(messages).where(eq(messages.conversationId, id)).orderBy(messages.id));
  return { fakes, id, base, call, sendStream, follow, stored, room: roomOf(id) };
};

const count = (name: string, n: number) => (events: SseEvent[]) => events.filter((e) => e.event === name).length >= n;

describe("a turn the room runs", () => {
  it("goes on after the client leaves: the Worker is done at once, and the whole answer is stored", async () => {
    const { fakes, sendStream, follow, stored, room } = await setUp();
    await fakes.scriptGroq({ reply: LONG_REPLY, chunkDelayMs: 100 });
    const { response, settled } = await sendStream("count to forty");
    const seen = await readEvents(response, count("delta", 2));
    // The client is gone after two deltas. The Worker's part of the send (its waitUntil included) is over...
    await settled();
    // ...while the turn still runs in the room, with nothing of the answer stored yet.
    expect(await room.runningTurn()).toEqual({ turnId: seen[0]?.id?.split(".")[0] });
    expect((await stored()).map((row) => row.role)).toEqual(["user"]);
    const rest = await readEvents(await follow({ "last-event-id": seen.at(-1)?.id ?? "" }));
    expect(rest.at(-1)?.event).toBe("done");
    expect(deltas(seen) + deltas(rest)).toBe(LONG_REPLY);
    await room.idle();
    const rows = await stored();
    expect(rows.map((row) => [row.role, row.content, row.status])).toEqual([
      ["user", "count to forty", "complete"],
      ["assistant", LONG_REPLY, "complete"],
    ]);
    expect(await room.runningTurn()).toEqual({ turnId: null });
  });

  it("cancels during a stall before the first token within a second, closing the provider's connection", async () => {
    const { fakes, base, call, sendStream, stored, room } = await setUp();
    await fakes.scriptGroq({ reply: REPLY, hangMs: 20_000 });
    const { response } = await sendStream("take your time");
    const reading = readEvents(response);
    // The turn has begun (the user message is stored) and the provider holds its answer back.
    await expect.poll(async () => (await fakes.groqCalls()).length, { timeout: 5_000 }).toBe(1);
    const started = Date.now();
    const cancelled = await call(`${base}/cancel`, { method: "POST" });
    expect(await cancelled.json()).toMatchObject({ cancelled: true });
    const events = await reading;
    // Not a speed claim: the provider would hold the answer back for 20 s, and a cancel read only at the next
    // token would wait all of it.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(events.at(-1)?.event).toBe("done");
    expect(events.at(-1)?.data).toMatchObject({ message: { status: "cancelled" } });
    await expect.poll(async () => (await fakes.groqCalls())[0]?.closedByClient, { timeout: 2_000 }).toBe(true);
    const [, assistant] = await stored();
    expect(assistant).toMatchObject({ role: "assistant", status: "cancelled", content: "" });
    // The next send is taken at once.
    await fakes.scriptGroq({ reply: "again" });
    const next = await call(`${base}/messages`, h.json("POST", { content: "again?" }));
    expect(next.status).toBe(200);
    await room.idle();
  });

  it("fails a turn by alarm when its runner is gone: the partial text is kept, the lock released", async () => {
    const { fakes, id, base, call, sendStream, follow, stored, room } = await setUp();
    await fakes.scriptGroq({ reply: LONG_REPLY, chunkDelayMs: 250 });
    const { response } = await sendStream("long one");
    // Past the room's periodic write of streamed events (a second), then the instance dies.
    const seen = await readEvents(response, count("delta", 7));
    expect(deltas(seen).length).toBeGreaterThan(0);
    // The instance is reset as when it crashes or is evicted: memory (and the runner) gone, storage kept.
    await runInDurableObject(room, (_, state) => state.abort("the instance dies in a test")).catch(() => undefined);
    // A stub of the instance that died is broken with it; callers reach the new instance through a new one.
    const revived = roomOf(id);
    expect(await runDurableObjectAlarm(revived)).toBe(true);
    const rows = await stored();
    expect(rows.map((row) => [row.role, row.status])).toEqual([
      ["user", "complete"],
      ["assistant", "failed"],
    ]);
    const partial = rows[1]?.content ?? "";
    expect(partial.length).toBeGreaterThan(0);
    expect(LONG_REPLY.startsWith(partial)).toBe(true);
    expect(partial).not.toBe(LONG_REPLY);
    expect(rows[1]?.error?.code).toBe("TURN_INTERRUPTED");
    // A follower now gets the turn's ending: a last `error` naming the stored message.
    const replay = await readEvents(await follow());
    expect(replay.at(-1)).toMatchObject({
      event: "error",
      data: { code: "TURN_INTERRUPTED", message_id: rows[1]?.id },
    });
    // The lock is free: the next send is answered.
    await fakes.scriptGroq({ reply: "back" });
    const next = await call(`${base}/messages`, h.json("POST", { content: "are you there?" }));
    expect(next.status).toBe(200);
    await revived.idle();
  });
});

describe("following a turn", () => {
  it("resumes after Last-Event-ID (header or query) with exactly the events missed, each once", async () => {
    const { fakes, sendStream, follow, room } = await setUp();
    await fakes.scriptGroq({ reply: REPLY, chunkDelayMs: 60 });
    const { response } = await sendStream("count");
    const dropped = await readEvents(response, count("delta", 3));
    const lastId = dropped.at(-1)?.id ?? "";
    const resumed = await readEvents(await follow({ "last-event-id": lastId }));
    const whole = await readEvents(await follow());
    expect(whole.at(-1)?.event).toBe("done");
    expect(resumed).toEqual(whole.slice(dropped.length));
    expect(dropped).toEqual(whole.slice(0, dropped.length));
    expect(new Set(whole.map((e) => e.id)).size).toBe(whole.length);
    const byQuery = await readEvents(await follow({}, `?last_event_id=${encodeURIComponent(lastId)}`));
    expect(byQuery).toEqual(resumed);
    await room.idle();
  });

  it("gives two followers of one turn identical events, every one once", async () => {
    const { fakes, sendStream, follow, room } = await setUp();
    await fakes.scriptGroq({ reply: REPLY, chunkDelayMs: 60 });
    const { response } = await sendStream("count");
    const sender = readEvents(response);
    const [first, second] = await Promise.all([readEvents(await follow()), readEvents(await follow())]);
    const sent = await sender;
    expect(first).toEqual(second);
    expect(first).toEqual(sent);
    expect(deltas(first)).toBe(REPLY);
    expect(new Set(first.map((e) => e.id)).size).toBe(first.length);
    await room.idle();
  });
});
