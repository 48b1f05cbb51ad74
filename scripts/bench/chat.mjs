// Chat latency, measured end to end through `wrangler dev` on the test stack against the local
// OpenAI-compatible fake, which streams with a fixed delay between tokens: `npm run bench:chat`.
// In one run, interleaved: time to first token straight from the fake versus through APE's chat SSE (user
// message stored, turn lock taken, context built, the model called and its first delta streamed by the
// conversation's Durable Object, which runs the turn), beside `GET /health` through the same runtime (APE's
// own share is APE minus direct minus /health), p50 and p99; then the full-turn latency of a JSON turn with
// 50 messages of history, beside the same 50-message request sent straight to the fake.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { startFakeOpenAi } from "../../test/helpers/fake-openai.mjs";
import { percentile, post, register, startBenchApe } from "./harness.mjs";

const { values } = parseArgs({
  options: {
    turns: { type: "string", default: "150" },
    long: { type: "string", default: "40" },
    "token-delay": { type: "string", default: "10" },
  },
});
const tokenDelay = Number(values["token-delay"]);

const fake = await startFakeOpenAi({ chunkDelayMs: tokenDelay });
const { stack, server, base } = await startBenchApe({
  OPENAI_API_KEY: "sk-bench",
  OPENAI_BASE_URL: `${fake.url}/v1`,
  LLM_PROVIDER_ORDER: "openai",
});
const auth = { authorization: `Bearer ${(await register(base)).access}` };
const newConversation = async () =>
  (await (await post(`${base}/chat/conversations`, { title: "bench", model: "openai/gpt-4o-mini" }, auth)).json()).id;

const question = "Name three prime numbers and say why each is prime.";
const direct = (history) =>
  post(
    `${fake.url}/v1/chat/completions`,
    { model: "gpt-4o-mini", messages: [...history, { role: "user", content: question }], stream: true },
    { authorization: "Bearer sk-bench" },
  );

/** Time to the first text of a stream (matched by `firstText`), then the stream read to its end. */
const firstToken = async (send, firstText) => {
  const started = performance.now();
  const res = await send();
  if (!res.ok || !res.body) throw new Error(`${res.status} ${await res.text()}`);
  const decoder = new TextDecoder();
  let buffer = "";
  let ttft = null;
  for await (const bytes of res.body) {
    buffer += decoder.decode(bytes, { stream: true });
    if (ttft === null && firstText.test(buffer)) ttft = performance.now() - started;
  }
  if (ttft === null) throw new Error("no first token");
  return { ttft, total: performance.now() - started };
};

const ms = (value) => `${value.toFixed(1)} ms`.padStart(10);
const row = (label, samples) =>
  console.log(`${label.padEnd(52)}${ms(percentile(samples, 50))}${ms(percentile(samples, 99))}`);
const added = (label, samples, baseline) =>
  console.log(
    `${label.padEnd(52)}${[50, 99].map((p) => ms(percentile(samples, p) - percentile(baseline, p))).join("")}`,
  );

// Time to first token, interleaved, one conversation (its history grows as a real one does).
const conversation = await newConversation();
const viaApe = () =>
  post(`${base}/chat/conversations/${conversation}/messages`, { content: question, stream: true }, auth);
for (let i = 0; i < 10; i++) {
  await firstToken(() => direct([]), /"content":"[^"]/);
  await firstToken(viaApe, /event: delta/);
}
/** Time to a whole `GET /health` answer: the runtime's hop alone, which APE's own share leaves out. */
const health = async () => {
  const started = performance.now();
  await (await fetch(`${base}/health`)).arrayBuffer();
  return performance.now() - started;
};
const ttft = { direct: [], ape: [], health: [] };
for (let i = 0; i < Number(values.turns); i++) {
  ttft.direct.push((await firstToken(() => direct([]), /"content":"[^"]/)).ttft);
  ttft.ape.push((await firstToken(viaApe, /event: delta/)).ttft);
  ttft.health.push(await health());
}

// Full turns with 50 messages of history: each sample in a conversation seeded with 25 exchanges.
const history = Array.from({ length: 50 }, (_, i) => ({
  role: i % 2 === 0 ? "user" : "assistant",
  content: `${i % 2 === 0 ? "Question" : "Answer"} ${i}: ${"some words about the topic ".repeat(8)}`,
}));
const db = new pg.Client({ connectionString: stack.DIRECT_DATABASE_URL });
await db.connect();
const seeded = async () => {
  const id = await newConversation();
  for (const [i, message] of history.entries()) {
    await db.query(
      "insert into messages (id, conversation_id, role, content, created_at) values ($1, $2, $3, $4, now() - make_interval(secs => $5))",
      [
        // Ids sort by time (src/lib/ids.ts): leading zeros put the seeded history, in order, before any new message.
        `msg_0000${String(i).padStart(3, "0")}${randomBytes(8).toString("hex")}`,
        id,
        message.role,
        message.content,
        100 - i,
      ],
    );
  }
  return id;
};
const full = { direct: [], ape: [] };
for (let i = 0; i < Number(values.long); i++) {
  const id = await seeded();
  full.direct.push((await firstToken(() => direct(history), /\[DONE\]/)).total);
  const started = performance.now();
  const res = await post(`${base}/chat/conversations/${id}/messages`, { content: question }, auth);
  const body = await res.json();
  if (!res.ok || body.context?.messages_included !== 51)
    throw new Error(`turn failed: ${res.status} ${JSON.stringify(body)}`);
  full.ape.push(performance.now() - started);
}
await db.end();
server.stop();
await fake.close();

console.log(`${"".padEnd(52)}${"p50".padStart(10)}${"p99".padStart(10)}`);
console.log(`time to first token, n=${ttft.direct.length} each (fake: ${tokenDelay} ms between tokens)`);
row("  straight to the fake (baseline)", ttft.direct);
row("  through APE's chat SSE", ttft.ape);
row("  GET /health through the same runtime", ttft.health);
added("  added by APE and the runtime (APE minus direct)", ttft.ape, ttft.direct);
console.log(
  `${"  APE's own share (APE minus direct minus /health)".padEnd(52)}${[50, 99]
    .map((p) => ms(percentile(ttft.ape, p) - percentile(ttft.direct, p) - percentile(ttft.health, p)))
    .join("")}`,
);
console.log(`full turn with 50 messages of history, n=${full.direct.length} each`);
row("  straight to the fake, streamed to its end", full.direct);
row("  through APE, JSON turn (stored, answered, stored)", full.ape);
added("  added by APE", full.ape, full.direct);
process.exit(0);
