// Webhook delivery, measured end to end through `wrangler dev` (its local queues, the real consumer) on the
// test stack, to a local receiver that verifies every signature with the `standardwebhooks` library:
// `npm run bench:webhooks`. Prints figures beside a baseline from the same run; asserts nothing.
// - Throughput: N deliveries made by N / 19 documents uploaded at once, each of whose `document.ready` events
//   fans out to 19 subscribed endpoints (one queue batch of messages per event); deliveries per second until
//   the receiver has answered 2xx to all (from the first upload, and from the first 2xx to the last: the
//   consumer's own pace). Baseline: the same number of signed POSTs sent straight from Node to the same
//   receiver, with as many in flight as APE's webhooks queue takes in one batch (10): what the receiver and
//   loopback can take.
// - Latency from job completion to the receiver's 2xx: documents uploaded one after another, an endpoint
//   subscribed to `document.ready`; each event's `timestamp` is set in the transaction that makes the
//   document ready, and the receiver notes when it answered. p50 and p99.
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import { percentile, post, register, startBenchApe } from "./harness.mjs";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "200" },
    documents: { type: "string", default: "40" },
  },
});
const EVENTS = Number(values.events);
const DOCUMENTS = Number(values.documents);

// The receiver: verifies each request with the endpoint's secret, answers 204, and remembers when.
/** @type {Map<string, string>} path → secret */
const secrets = new Map();
/** @type {Array<{ path: string, id: string, type: string, eventAt: number, answeredAt: number }>} */
const received = [];
let refused = 0;
const receiver = createServer((request, response) => {
  let body = "";
  request.setEncoding("utf8");
  request.on("data", (chunk) => {
    body += chunk;
  });
  request.on("end", () => {
    const path = request.url ?? "/";
    const secret = secrets.get(path);
    try {
      if (!secret) throw new Error("no endpoint here");
      const event = /** @type {{ type: string, timestamp: string }} */ (
        new Webhook(secret).verify(body, /** @type {Record<string, string>} */ (request.headers))
      );
      response.writeHead(204).end();
      received.push({
        path,
        id: String(request.headers["webhook-id"]),
        type: event.type,
        eventAt: Date.parse(event.timestamp),
        answeredAt: Date.now(),
      });
    } catch {
      refused += 1;
      response.writeHead(401).end();
    }
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", () => resolve(undefined)));
const address = receiver.address();
const receiverPort = typeof address === "object" && address ? address.port : 0;
const receiverUrl = `http://127.0.0.1:${receiverPort}`;

const { server, base } = await startBenchApe({ FETCH_ALLOW_HOSTS: `127.0.0.1:${receiverPort}` });
const auth = { authorization: `Bearer ${(await register(base)).access}` };

/** Registers an endpoint at `path` of the receiver for `types`; returns its id. */
const endpoint = async (path, types, as = auth) => {
  const res = await post(`${base}/users/me/webhooks`, { url: `${receiverUrl}${path}`, event_types: types }, as);
  if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${await res.text()}`);
  const body = await res.json();
  secrets.set(path, body.secret);
  return body.id;
};

/** Waits until `count` requests reached `path`, or gives up after `ms`. */
const arrived = async (path, count, ms = 120_000) => {
  const until = Date.now() + ms;
  while (received.filter((r) => r.path === path).length < count) {
    if (Date.now() > until)
      throw new Error(`only ${received.filter((r) => r.path === path).length} of ${count} arrived`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

// --- Throughput --------------------------------------------------------------------------------------------
// A warm-up event first, so the first figures do not carry the isolate's start.
const warm = await endpoint("/warm", ["document.ready"]);
await post(`${base}/users/me/webhooks/${warm}/test`, {}, auth);
await arrived("/warm", 1);

// One document.ready event fans out to every subscribed endpoint in one batch of queue messages: 19 endpoints
// times EVENTS / 19 documents, all uploaded at once.
const FAN_OUT = 19; // with the warm-up endpoint, the account's limit of 20
const paths = Array.from({ length: FAN_OUT }, (_, i) => `/throughput/${i}`);
for (const path of paths) await endpoint(path, ["document.ready"]);
const fanned = () => received.filter((r) => r.path.startsWith("/throughput/"));
const queuedAt = Date.now();
await Promise.all(
  Array.from({ length: Math.ceil(EVENTS / FAN_OUT) }, async (_, i) => {
    const form = new FormData();
    form.set("file", new File([`Fan-out document ${i}.`], `fan-${i}.txt`, { type: "text/plain" }));
    const res = await fetch(`${base}/documents`, { method: "POST", headers: auth, body: form });
    if (res.status !== 202) throw new Error(`upload: ${res.status} ${await res.text()}`);
  }),
);
const allQueuedAt = Date.now();
const expected = Math.ceil(EVENTS / FAN_OUT) * FAN_OUT;
const until = Date.now() + 180_000;
while (fanned().length < expected) {
  if (Date.now() > until) throw new Error(`only ${fanned().length} of ${expected} deliveries arrived`);
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const apeSeconds = (Date.now() - queuedAt) / 1000;
const throughput = fanned();
const apeDelivery = throughput.map((r) => r.answeredAt - r.eventAt);
const answeredSpan =
  (Math.max(...throughput.map((r) => r.answeredAt)) - Math.min(...throughput.map((r) => r.answeredAt))) / 1000;

// Baseline: the same signed requests straight from Node, 10 in flight.
const baselineSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwX1Y2Z3a4b5c=";
secrets.set("/baseline", baselineSecret);
const signer = new Webhook(baselineSecret);
const baselineStart = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: 10 }, async () => {
    while (next < EVENTS) {
      const n = next++;
      const at = new Date();
      const body = JSON.stringify({ type: "webhook.test", timestamp: at.toISOString(), data: { n } });
      const id = `evt_baseline_${n}`;
      const res = await fetch(`${receiverUrl}/baseline`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
          "webhook-signature": signer.sign(id, at, body),
        },
        body,
      });
      await res.arrayBuffer();
    }
  }),
);
const baselineSeconds = (Date.now() - baselineStart) / 1000;

// --- Latency from job completion to 2xx ---------------------------------------------------------------------
// Another account, so the fan-out endpoints above do not take these events too.
const latencyAuth = { authorization: `Bearer ${(await register(base)).access}` };
await endpoint("/documents", ["document.ready"], latencyAuth);
for (let i = 0; i < DOCUMENTS; i++) {
  const form = new FormData();
  form.set("file", new File([`Bench document ${i}: a short note.`], `note-${i}.txt`, { type: "text/plain" }));
  const res = await fetch(`${base}/documents`, { method: "POST", headers: latencyAuth, body: form });
  if (res.status !== 202) throw new Error(`upload: ${res.status} ${await res.text()}`);
  await arrived("/documents", i + 1);
}
const completionToAnswer = received.filter((r) => r.path === "/documents").map((r) => r.answeredAt - r.eventAt);

server.stop();
receiver.close();

const ms = (value) => `${value.toFixed(0)} ms`;
console.log(
  `\nWebhook delivery through wrangler dev (local queues), ${expected} deliveries, receiver verifying every signature`,
);
console.table([
  {
    case: `APE: ${expected / FAN_OUT} document.ready events × ${FAN_OUT} endpoints, by the webhooks consumer`,
    "deliveries/s": (expected / apeSeconds).toFixed(0),
    "deliveries/s, first to last 2xx": ((expected - 1) / answeredSpan).toFixed(0),
    "uploads took": ms(allQueuedAt - queuedAt),
    "event → 2xx p50": ms(percentile(apeDelivery, 50)),
    "event → 2xx p99": ms(percentile(apeDelivery, 99)),
  },
  {
    case: "baseline: signed POSTs straight from Node, 10 in flight",
    "deliveries/s": (EVENTS / baselineSeconds).toFixed(0),
    "deliveries/s, first to last 2xx": "-",
    "uploads took": "-",
    "event → 2xx p50": "-",
    "event → 2xx p99": "-",
  },
]);
console.log(`\nJob completion → receiver's 2xx, ${DOCUMENTS} documents made ready one after another (document.ready)`);
console.table([
  {
    p50: ms(percentile(completionToAnswer, 50)),
    p99: ms(percentile(completionToAnswer, 99)),
    max: ms(Math.max(...completionToAnswer)),
  },
]);
console.log(`signatures refused by the receiver: ${refused}`);
process.exit(0);
