// Auth latency, measured end to end through `wrangler dev` on the test stack: `npm run bench:auth`.
// Prints login p50/p99 (the password hash dominates it) and what authentication adds to a call, for an access
// token and for an API key, beside the unauthenticated health route measured in the same run.
import { parseArgs } from "node:util";
import { percentile, post, register, startBenchApe } from "./harness.mjs";

const { values } = parseArgs({
  options: { logins: { type: "string", default: "40" }, calls: { type: "string", default: "300" } },
});

const { server, base } = await startBenchApe();
const postTo = (path, body, headers = {}) => post(`${base}${path}`, body, headers);
const timed = async (call) => {
  const started = performance.now();
  const res = await call();
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${res.status} from a benchmark call`);
  return performance.now() - started;
};

const { email, password, access } = await register(base);
const key = (
  await (
    await postTo("/users/me/api-keys", { name: "bench", scopes: ["read"] }, { authorization: `Bearer ${access}` })
  ).json()
).key;

// Warm up every path once (isolate start, connections).
for (const call of [() => fetch(`${base}/health`), () => postTo("/auth/login", { email, password })]) await timed(call);

const logins = [];
for (let i = 0; i < Number(values.logins); i++)
  logins.push(await timed(() => postTo("/auth/login", { email, password })));

const series = { health: [], jwt: [], key: [] };
for (let i = 0; i < Number(values.calls); i++) {
  // Interleaved, so drift in the machine's load falls on all three alike.
  series.health.push(await timed(() => fetch(`${base}/health`)));
  series.jwt.push(await timed(() => fetch(`${base}/users/me`, { headers: { authorization: `Bearer ${access}` } })));
  series.key.push(await timed(() => fetch(`${base}/users/me`, { headers: { "x-api-key": key } })));
}
server.stop();

const ms = (value) => `${value.toFixed(1)} ms`.padStart(10);
const row = (label, samples, baseline) =>
  `${label.padEnd(44)}${ms(percentile(samples, 50))}${ms(percentile(samples, 99))}` +
  (baseline ? `${ms(percentile(samples, 50) - percentile(baseline, 50)).padStart(12)}` : "");
console.log(`${"".padEnd(44)}${"p50".padStart(10)}${"p99".padStart(10)}${"added p50".padStart(12)}`);
console.log(row(`POST /auth/login (n=${logins.length})`, logins));
console.log(row(`GET /health, no auth: baseline (n=${series.health.length})`, series.health));
console.log(row("GET /users/me with an access token (JWT)", series.jwt, series.health));
console.log(row("GET /users/me with an API key", series.key, series.health));
console.log("(/users/me also reads the user row, so 'added' is authentication plus one query and the rate limit.)");
process.exit(0);
