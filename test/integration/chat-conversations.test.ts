import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLogs, messages } from "../../src/db/schema/index.js";
import { newId } from "../../src/lib/ids.js";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";

let h: Harness;
beforeAll(async () => {
  // No provider configured: any model is kept at creation (the fakes are passed per request where it matters).
  // Each test signs up a user of its own: more than the per-address sign-up limit allows in a minute.
  h = await createHarness({ RATE_LIMIT_AUTH_PER_MINUTE: "1000000" });
});

type Conversation = {
  id: string;
  title: string | null;
  model: string;
  system_prompt: string | null;
  document_ids: string[] | "all";
  created_at: string;
  updated_at: string;
};
type ConversationDetail = Conversation & { message_count: number; usage: { tokens: number } };
type Page<T> = { items: T[]; next_cursor: string | null };
type Message = { id: string; role: string; content: string; status: string; tokens_used: number | null };

const BASE = "/api/v1/chat/conversations";

const signedIn = async () => {
  const user = await h.signUp();
  const auth = h.bearer(user.tokens.access_token);
  const create = async (body: Record<string, unknown> = {}, env: Record<string, unknown> = {}) =>
    h.request(BASE, h.json("POST", body, auth), env);
  const start = async (body: Record<string, unknown> = {}) => {
    const res = await create(body);
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as ConversationDetail;
  };
  const get = async <T>(path: string) => {
    const res = await h.request(path, { headers: auth });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as T;
  };
  return { user, auth, create, start, get };
};

describe("conversations", () => {
  it("starts a conversation with defaults, and with every field", async () => {
    const { start, create, auth } = await signedIn();
    const upload = async (text: string) => {
      const form = new FormData();
      form.set("file", new File([text], "notes.txt", { type: "text/plain" }));
      return (
        (await (await h.request("/api/v1/documents", { method: "POST", headers: auth, body: form })).json()) as {
          id: string;
        }
      ).id;
    };
    const [first, second] = [await upload("first notes"), await upload("second notes")];
    const plain = await start();
    expect(plain).toMatchObject({
      title: null,
      model: "auto",
      system_prompt: null,
      document_ids: [],
      message_count: 0,
      usage: { tokens: 0 },
    });
    expect(plain.id).toMatch(/^conv_[0-9A-Z]{26}$/);

    const full = await create({
      title: "  Lisbon offsite  ",
      model: "groq/llama-3.3-70b-versatile",
      system_prompt: "Be brief.",
      document_ids: [first, second, first],
    });
    expect(full.status).toBe(201);
    expect(await full.json()).toMatchObject({
      title: "Lisbon offsite",
      model: "groq/llama-3.3-70b-versatile",
      system_prompt: "Be brief.",
      document_ids: [first, second],
    });
    // Grounded in everything the user has, now and later.
    expect((await start({ document_ids: "all" })).document_ids).toBe("all");
    // A document that is not the caller's (here: nobody's) is 404, like any id not theirs.
    const missing = await readProblem(await create({ document_ids: [first, newId("doc")] }));
    expect([missing.status, missing.body.code]).toEqual([404, "NOT_FOUND"]);
  });

  it("refuses a model no configured provider answers to, and keeps any model when none is configured", async () => {
    const { create } = await signedIn();
    const providers = llmFakes().env();
    const unknown = await readProblem(await create({ model: "no-such-model" }, providers));
    expect(unknown.status).toBe(400);
    expect(unknown.body.code).toBe("UNKNOWN_MODEL");
    expect((await create({ model: "auto" }, providers)).status).toBe(201);
    expect((await create({ model: "openai/gpt-4o-mini" }, providers)).status).toBe(201);
    const groqOnly = llmFakes().env({ AWS_REGION: "", OPENAI_API_KEY: "", OPENAI_COMPATIBLE_BASE_URL: "" });
    for (const model of ["bedrock", "openai/gpt-4o-mini"]) {
      const unconfigured = await readProblem(await create({ model }, groqOnly));
      expect([unconfigured.status, unconfigured.body.code]).toEqual([400, "UNKNOWN_MODEL"]);
    }
    expect((await create({ model: "groq" }, groqOnly)).status).toBe(201);
    // With no provider at all there is nothing to check against yet.
    expect((await create({ model: "no-such-model" })).status).toBe(201);
  });

  it("refuses invalid bodies with 400 VALIDATION_FAILED", async () => {
    const { create, start, auth } = await signedIn();
    const bodies = [
      { title: "x".repeat(256) },
      { title: "" },
      { model: "m".repeat(201) },
      { model: "" },
      { system_prompt: "p".repeat(20_001) },
      { document_ids: Array.from({ length: 51 }, (_, i) => `doc_${i}`) },
      { document_ids: "doc_1" },
      { title: 42 },
    ];
    for (const body of bodies) {
      const problem = await readProblem(await create(body));
      expect(problem.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(problem.body.code).toBe("VALIDATION_FAILED");
    }
    const conversation = await start();
    for (const body of [{ title: "x".repeat(256) }, { model: 7 }, { system_prompt: "" }]) {
      const res = await h.request(`${BASE}/${conversation.id}`, h.json("PATCH", body, auth));
      expect(res.status).toBe(400);
    }
    for (const query of ["?limit=0", "?limit=101", "?limit=abc"]) {
      expect((await h.request(`${BASE}${query}`, { headers: auth })).status).toBe(400);
    }
    for (const query of ["?limit=0", "?limit=201"]) {
      expect((await h.request(`${BASE}/${conversation.id}/messages${query}`, { headers: auth })).status).toBe(400);
    }
  });

  it("lists newest first across pages, and searches titles ignoring case, with % and _ taken literally", async () => {
    const { start, get } = await signedIn();
    const titles = ["Alpha plan", "beta PLAN", "Gamma notes", "100% sure", "snake_case", "snakeXcase"];
    const made: ConversationDetail[] = [];
    for (const title of titles) made.push(await start({ title }));
    await start();

    const first = await get<Page<Conversation>>(`${BASE}?limit=3`);
    expect(first.items).toHaveLength(3);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await get<Page<Conversation>>(`${BASE}?limit=3&cursor=${first.next_cursor}`);
    expect(second.items).toHaveLength(3);
    const third = await get<Page<Conversation>>(`${BASE}?limit=3&cursor=${second.next_cursor}`);
    expect(third.items).toHaveLength(1);
    expect(third.next_cursor).toBeNull();
    const ids = [...first.items, ...second.items, ...third.items].map((c) => c.id);
    expect(new Set(ids).size).toBe(7);
    expect([...ids].sort().reverse()).toEqual(ids);
    expect(third.items[0]?.id).toBe(made[0]?.id);

    const search = async (q: string) =>
      (await get<Page<Conversation>>(`${BASE}?q=${encodeURIComponent(q)}`)).items.map((c) => c.title);
    expect(await search("plan")).toEqual(["beta PLAN", "Alpha plan"]);
    expect(await search("%")).toEqual(["100% sure"]);
    expect(await search("_")).toEqual(["snake_case"]);
    expect(await search("nothing like it")).toEqual([]);
    const paged = await get<Page<Conversation>>(`${BASE}?q=plan&limit=1`);
    expect(paged.items.map((c) => c.title)).toEqual(["beta PLAN"]);
    const rest = await get<Page<Conversation>>(`${BASE}?q=plan&limit=1&cursor=${paged.next_cursor}`);
    expect(rest.items.map((c) => c.title)).toEqual(["Alpha plan"]);
    expect(rest.next_cursor).toBeNull();
  });

  it("gets one with its message count and token usage, and pages its messages oldest first", async () => {
    const { start, get } = await signedIn();
    const conversation = await start({ title: "Counting" });
    expect(await get<ConversationDetail>(`${BASE}/${conversation.id}`)).toMatchObject({
      id: conversation.id,
      title: "Counting",
      message_count: 0,
      usage: { tokens: 0 },
    });
    expect(await get<Page<Message>>(`${BASE}/${conversation.id}/messages`)).toEqual({ items: [], next_cursor: null });

    // Messages as the turn half writes them: ids a millisecond apart, so their order is the id order.
    const now = Date.now();
    const rows = [
      { role: "user" as const, content: "Hi", tokensUsed: null },
      { role: "assistant" as const, content: "Hello!", tokensUsed: 120, modelUsed: "groq/llama-3.1-8b-instant" },
      { role: "user" as const, content: "Again", tokensUsed: null },
      { role: "assistant" as const, content: "Hel", tokensUsed: 30, status: "cancelled" as const },
    ].map((row, i) => ({ ...row, id: newId("msg", now + i), conversationId: conversation.id }));
    await h.withDb((db) => db.insert(messages).values(rows));

    expect(await get<ConversationDetail>(`${BASE}/${conversation.id}`)).toMatchObject({
      message_count: 4,
      usage: { tokens: 150 },
    });
    const first = await get<Page<Message>>(`${BASE}/${conversation.id}/messages?limit=3`);
    expect(first.items.map((m) => m.content)).toEqual(["Hi", "Hello!", "Again"]);
    expect(first.items[1]).toMatchObject({
      conversation_id: conversation.id,
      role: "assistant",
      model_used: "groq/llama-3.1-8b-instant",
      tokens_used: 120,
      status: "complete",
      finish_reason: null,
      error: null,
    });
    expect(first.next_cursor).toBe(rows[2]?.id);
    const second = await get<Page<Message>>(`${BASE}/${conversation.id}/messages?limit=3&cursor=${first.next_cursor}`);
    expect(second.items.map((m) => [m.content, m.status])).toEqual([["Hel", "cancelled"]]);
    expect(second.next_cursor).toBeNull();
  });

  it("updates the title, model and prompt, and clears them with null", async () => {
    const { start, auth, user } = await signedIn();
    const conversation = await start({ title: "Before", system_prompt: "Old prompt" });
    const patch = async (body: unknown) => h.request(`${BASE}/${conversation.id}`, h.json("PATCH", body, auth));

    const changed = await patch({ title: "After", model: "fast", system_prompt: "New prompt" });
    expect(changed.status).toBe(200);
    const body = (await changed.json()) as ConversationDetail;
    expect(body).toMatchObject({ title: "After", model: "fast", system_prompt: "New prompt", message_count: 0 });
    expect(Date.parse(body.updated_at)).toBeGreaterThanOrEqual(Date.parse(conversation.updated_at));

    const cleared = (await (await patch({ title: null, system_prompt: null })).json()) as ConversationDetail;
    expect(cleared).toMatchObject({ title: null, model: "fast", system_prompt: null });

    const unchanged = await patch({});
    expect(unchanged.status).toBe(200);
    expect(await unchanged.json()).toMatchObject({ title: null, model: "fast" });

    const unknown = await h.request(
      `${BASE}/${conversation.id}`,
      h.json("PATCH", { model: "no-such-model" }, auth),
      llmFakes().env(),
    );
    expect(unknown.status).toBe(400);

    const actions = await h.withDb((db) => db.select().from(auditLogs).where(eq(auditLogs.userId, user.id)));
    const mine = actions.filter((row) => row.resourceId === conversation.id).map((row) => row.action);
    expect(mine).toEqual(expect.arrayContaining(["conversation.create", "conversation.update"]));
  });

  it("deletes a conversation with its messages", async () => {
    const { start, auth, user } = await signedIn();
    const conversation = await start();
    await h.withDb((db) =>
      db.insert(messages).values({ conversationId: conversation.id, role: "user", content: "Bye" }),
    );
    const deleted = await h.request(`${BASE}/${conversation.id}`, { method: "DELETE", headers: auth });
    expect(deleted.status).toBe(204);
    expect((await h.request(`${BASE}/${conversation.id}`, { headers: auth })).status).toBe(404);
    const again = await h.request(`${BASE}/${conversation.id}`, { method: "DELETE", headers: auth });
    expect(again.status).toBe(404);
    const left = await h.withDb((db) => db.select().from(messages).where(eq(messages.conversationId, conversation.id)));
    expect(left).toEqual([]);
    const audited = await h.withDb((db) => db.select().from(auditLogs).where(eq(auditLogs.userId, user.id)));
    expect(audited.some((row) => row.action === "conversation.delete" && row.resourceId === conversation.id)).toBe(
      true,
    );
  });
});

describe("another user's conversations", () => {
  it("answers 404 on every route, exactly as for an unknown or malformed id, and changes nothing", async () => {
    const owner = await signedIn();
    const conversation = await owner.start({ title: "Private thoughts" });
    const intruder = await signedIn();

    const attempts = (id: string) => [
      h.request(`${BASE}/${id}`, { headers: intruder.auth }),
      h.request(`${BASE}/${id}`, h.json("PATCH", { title: "Mine now" }, intruder.auth)),
      h.request(`${BASE}/${id}/messages`, { headers: intruder.auth }),
      h.request(`${BASE}/${id}`, { method: "DELETE", headers: intruder.auth }),
    ];
    const shapes = async (id: string) =>
      Promise.all(
        (await Promise.all(attempts(id))).map(async (res) => {
          const problem = await readProblem(res);
          expect(problem.body.detail).not.toContain("Private thoughts");
          return [problem.status, problem.body.code, problem.body.title];
        }),
      );
    const theirs = await shapes(conversation.id);
    expect(theirs).toEqual(Array(4).fill([404, "NOT_FOUND", "Not found"]));
    expect(await shapes(newId("conv"))).toEqual(theirs);
    expect(await shapes("conv_not-an-id")).toEqual(theirs);
    expect(await shapes("key_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z")).toEqual(theirs);

    expect((await intruder.get<Page<Conversation>>(BASE)).items).toEqual([]);
    expect(await owner.get<ConversationDetail>(`${BASE}/${conversation.id}`)).toMatchObject({
      title: "Private thoughts",
    });
  });
});
