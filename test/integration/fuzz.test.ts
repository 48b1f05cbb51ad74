import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { bodyArbitrary, operationsOf, pathArbitrary, queryArbitrary } from "../helpers/fuzz.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { anyCodeToolAnswer, llmFakes } from "../helpers/llm-fakes.js";

// Every operation in the spec, with generated valid and invalid requests: nothing may answer 5xx, and every
// error must be problem+json with a code and the request id. It grows with every route the spec gains.
let h: Harness;
let doc: Parameters<typeof operationsOf>[0];
beforeAll(async () => {
  // The fuzz sends hundreds of requests from one address; lift the per-IP auth limit so they reach validation.
  // Providers answer (from the local fakes): a 503 for want of one would hide what the fuzzer looks for.
  // The code tools refuse the fake's default JSON answer (`{}`) with 502, so it gives one they all accept.
  const fakes = llmFakes();
  // Generated requests carry made-up credentials too: none may be held up by the per-IP limits.
  h = await createHarness({
    RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
    RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "1000000",
    RATE_LIMIT_HEALTH_PER_MINUTE: "1000000",
    ...fakes.env(),
  });
  await fakes.scriptGroq({ reply: anyCodeToolAnswer, times: 100_000 });
  doc = (await (await h.request("/api/v1/openapi.json")).json()) as typeof doc;
});

const RUNS_PER_OPERATION = 25;
// A pass sends RUNS_PER_OPERATION requests to each of the spec's operations one after another (about 2,500
// now), so its time grows with the API; the file's 20 s default was sized for a smaller one.
const PASS_TIMEOUT_MS = 90_000;

describe("API fuzz", () => {
  it("covers at least the operations the spec lists", () => {
    expect(operationsOf(doc, "/api/v1").length).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ["anonymous", false],
    ["signed in", true],
  ])(
    "never answers 5xx, and every error is problem+json with a code and request id (%s)",
    async (_, signedIn) => {
      // A fresh user per pass; the fuzz may sign it out or change it, which is fine: nothing may break.
      const auth: Record<string, string> = signedIn ? h.bearer((await h.signUp()).tokens.access_token) : {};
      for (const op of operationsOf(doc, "/api/v1")) {
        await fc.assert(
          fc.asyncProperty(
            pathArbitrary(op),
            queryArbitrary(doc, op),
            bodyArbitrary(doc, op),
            async (path, query, body) => {
              const hasBody = !["GET", "HEAD"].includes(op.method);
              const res = await h.request(`${path}${query}`, {
                method: op.method,
                headers: { ...auth, ...(hasBody ? { "content-type": body.contentType } : {}) },
                ...(hasBody ? { body: body.text } : {}),
              });
              const where = `${op.method} ${path}${query}`;
              expect(res.status, where).toBeLessThan(500);
              if (res.status >= 400 && path.startsWith("/api/v1/openai/")) {
                // The OpenAI-compatible front door answers in OpenAI's error shape, which its clients parse.
                expect(res.headers.get("content-type"), where).toBe("application/json");
                const { error } = (await res.json()) as { error?: { code?: string; message?: string } };
                expect(error?.code, where).toEqual(expect.any(String));
                expect(error?.message, where).toEqual(expect.any(String));
                expect(res.headers.get("x-request-id"), where).toMatch(/^req_/);
              } else if (res.status >= 400) {
                expect(res.headers.get("content-type"), where).toBe("application/problem+json");
                const problem = (await res.json()) as { code?: string; requestId?: string };
                expect(problem.code, where).toEqual(expect.any(String));
                expect(problem.requestId, where).toBe(res.headers.get("x-request-id"));
              } else {
                await res.body?.cancel();
              }
            },
          ),
          { numRuns: RUNS_PER_OPERATION },
        );
      }
    },
    PASS_TIMEOUT_MS,
  );
});
