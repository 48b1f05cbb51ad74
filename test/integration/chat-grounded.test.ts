import { beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";
import { llmFakes, type ReceivedByOpenAi } from "../helpers/llm-fakes.js";
import { readEvents } from "../helpers/sse-events.js";
import { makeTextPdf, utf8 } from "../helpers/test-files.js";

// Chat grounded in documents: the turn retrieves passages of the conversation's documents, hands them to the
// model as delimited data, and the answer's [n] citations are checked by code against what was retrieved.
let h: Harness;
let fakes: ReturnType<typeof llmFakes>;
let token: string;
let lease: string;
let menu: string;
beforeAll(async () => {
  fakes = llmFakes();
  // Groq alone, so the scripted answer is the one the turn gets.
  h = await createHarness({ ...fakes.env(), LLM_PROVIDER_ORDER: "groq", RATE_LIMIT_AUTH_PER_MINUTE: "1000000" });
  token = (await h.signUp()).tokens.access_token;
  const form = (bytes: Uint8Array, name: string) => {
    const body = new FormData();
    body.set("file", new File([bytes], name));
    return { method: "POST", headers: h.bearer(token), body };
  };
  const upload = async (bytes: Uint8Array, name: string) =>
    ((await (await h.request("/api/v1/documents", form(bytes, name))).json()) as { id: string }).id;
  lease = await upload(
    await makeTextPdf([
      ["Lease agreement between Harbour Lofts and the tenant"],
      ["Section 9. The tenant may end the lease early by paying a termination fee of two months rent."],
    ]),
    "lease.pdf",
  );
  menu = await upload(utf8("The canteen serves lentil soup on Mondays and fish stew on Fridays."), "menu.txt");
  await h.runJobs();
});

type Message = {
  content: string;
  citations: Array<{ n: number; document_id: string; page: number; quote: string }> | null;
};

const converse = async (documentIds: string[] | "all") => {
  const res = await h.request(
    "/api/v1/chat/conversations",
    h.json("POST", { title: "grounded", document_ids: documentIds }, h.bearer(token)),
  );
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
};

const lastPromptTo = async () => {
  const calls = (await fakes.groqCalls()) as Array<
    ReceivedByOpenAi & { body: { messages?: Array<{ role: string; content: string }> } }
  >;
  return calls.filter((call) => call.path.endsWith("/chat/completions")).at(-1)?.body?.messages ?? [];
};

describe("answers grounded in documents", () => {
  it("cites the right document and page, and drops a citation that points at nothing retrieved", async () => {
    const id = await converse([lease, menu]);
    await fakes.scriptGroq({ reply: "Ending early costs two months rent [1]. It is also said to be free [7]." });
    const res = await h.request(
      `/api/v1/chat/conversations/${id}/messages`,
      h.json("POST", { content: "How much is the termination fee if I leave early?" }, h.bearer(token)),
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const answer = (await res.json()) as Message;
    expect(answer.citations).toHaveLength(1);
    expect(answer.citations?.[0]).toMatchObject({ n: 1, document_id: lease, page: 2 });
    expect(answer.citations?.[0]?.quote).toContain("termination fee");
    // The fabricated [7] is gone from the stored text, not shipped as if supported.
    expect(answer.content).toBe("Ending early costs two months rent [1]. It is also said to be free.");

    // The model got the passages as delimited data, numbered, with the rule to cite them.
    const prompt = await lastPromptTo();
    const user = prompt.at(-1)?.content ?? "";
    expect(user).toMatch(/<document_passages n="1" document="lease.pdf" page="2">/);
    expect(user).toContain("How much is the termination fee");
    expect(prompt.some((message) => message.role === "system" && message.content.includes("[2]"))).toBe(true);

    // The stored message keeps them.
    const listed = await h.request(`/api/v1/chat/conversations/${id}/messages`, { headers: h.bearer(token) });
    const stored = ((await listed.json()) as { items: Message[] }).items.at(-1);
    expect(stored?.citations?.[0]).toMatchObject({ document_id: lease, page: 2 });
  });

  it("sends the citations as an SSE event before the answer is done", async () => {
    const id = await converse("all");
    await fakes.scriptGroq({ reply: "Fish stew is served on Fridays [1]." });
    const res = await h.request(
      `/api/v1/chat/conversations/${id}/messages`,
      h.json("POST", { content: "What does the canteen serve on Fridays?", stream: true }, h.bearer(token)),
    );
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readEvents(res);
    await h.settled();
    const names = events.map((event) => event.event);
    expect(names.indexOf("citations")).toBeGreaterThan(-1);
    expect(names.indexOf("citations")).toBeLessThan(names.indexOf("done"));
    expect(events.find((event) => event.event === "citations")?.data).toMatchObject({
      citations: [{ n: 1, document_id: menu, page: 1 }],
    });
  });

  it("refuses a conversation grounded in a document that is not the caller's", async () => {
    const other = await h.signUp();
    const res = await h.request(
      "/api/v1/chat/conversations",
      h.json("POST", { document_ids: [lease] }, h.bearer(other.tokens.access_token)),
    );
    expect((await readProblem(res)).status).toBe(404);
  });
});
