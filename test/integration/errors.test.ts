import { createExecutionContext, env } from "cloudflare:test";
import { createRoute, z } from "@hono/zod-openapi";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/lib/app.js";
import { ApiError } from "../../src/lib/errors.js";
import { bodyGuard } from "../../src/middleware/body-guard.js";
import { init } from "../../src/middleware/init.js";
import { installProblemHandling } from "../../src/middleware/problems.js";
import { requestId } from "../../src/middleware/request-id.js";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

const expectProblem = async (res: Response, status: number, code: string) => {
  const problem = await readProblem(res);
  expect(problem.status).toBe(status);
  expect(problem.contentType).toBe("application/problem+json");
  expect(problem.body).toMatchObject({ status, code, type: expect.stringMatching(/^urn:ape:problem:/) });
  expect(problem.body.title).toEqual(expect.any(String));
  expect(problem.body.detail).toEqual(expect.any(String));
  expect(problem.body.requestId).toBe(problem.requestIdHeader);
  expect(JSON.stringify(problem.body)).not.toMatch(/at .+\.(ts|js):\d+/);
  return problem.body;
};

// A tiny app with APE's real middleware and renderer, and routes that fail in each way a route can.
const tinyApp = () => {
  const app = createApp();
  app.use("*", requestId(), init(), bodyGuard());
  app.openapi(
    createRoute({
      method: "post",
      path: "/things",
      request: {
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z.object({
                name: z.string().min(2),
                tags: z.array(z.string()).max(2),
                nested: z.object({ n: z.number() }),
              }),
            },
          },
        },
      },
      responses: { 201: { description: "made" } },
    }),
    (c) => c.json(c.req.valid("json"), 201),
  );
  app.get("/boom", () => {
    throw new Error("database password is hunter2 at /srv/app.ts:12");
  });
  app.get("/conflict", () => {
    throw new ApiError("CONFLICT", "Already there.");
  });
  installProblemHandling(app);
  return app;
};

const tiny = (path: string, init?: RequestInit, overrides: Record<string, unknown> = {}) =>
  tinyApp().fetch(new Request(`http://ape.test${path}`, init), { ...env, ...overrides }, createExecutionContext());

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

describe("the error model", () => {
  it("lists every failing field of a validation error with its path", async () => {
    const body = await expectProblem(
      await tiny("/things", json({ name: "x", tags: ["a", "b", "c"] })),
      400,
      "VALIDATION_FAILED",
    );
    const paths = (body.errors as { path: string; message: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(["body.name", "body.nested", "body.tags"]);
    expect((body.errors as { message: string }[]).every((e) => e.message.length > 0)).toBe(true);
  });

  it("passes a valid body through", async () => {
    const res = await tiny("/things", json({ name: "xy", tags: [], nested: { n: 1 } }));
    expect(res.status).toBe(201);
  });

  it("answers malformed JSON with 400 MALFORMED_JSON", async () => {
    await expectProblem(await tiny("/things", json('{"name": "xy",')), 400, "MALFORMED_JSON");
  });

  it("answers a body over the limit with 413, by Content-Length and when chunked", async () => {
    await expectProblem(
      await tiny("/things", json({ name: "x".repeat(2000) }), { MAX_BODY_BYTES: "1000" }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    const chunked = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode("x".repeat(400)));
        controller.close();
      },
    });
    const res = await tiny(
      "/things",
      {
        method: "POST",
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
        body: chunked,
        duplex: "half",
      } as RequestInit,
      { MAX_BODY_BYTES: "1000" },
    );
    await expectProblem(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it("answers a media type it does not take with 415", async () => {
    const res = await tiny("/things", { method: "POST", headers: { "content-type": "text/plain" }, body: "name=xy" });
    await expectProblem(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers an unexpected error as INTERNAL without its message or stack", async () => {
    const body = await expectProblem(await tiny("/boom"), 500, "INTERNAL");
    expect(JSON.stringify(body)).not.toContain("hunter2");
    expect(JSON.stringify(body)).not.toContain("/srv/app.ts");
  });

  it("renders an ApiError with its own code", async () => {
    await expectProblem(await tiny("/conflict"), 409, "CONFLICT");
  });

  it("answers an unknown route with 404 and a known path under another method with 405 and Allow", async () => {
    await expectProblem(await h.request("/api/v1/nope"), 404, "NOT_FOUND");
    await expectProblem(await h.request("/nope"), 404, "NOT_FOUND");
    const res = await h.request("/api/v1/health", { method: "DELETE" });
    expect(res.headers.get("allow")).toContain("GET");
    await expectProblem(res, 405, "METHOD_NOT_ALLOWED");
  });

  it("names each missing or bad setting (never its value) when the environment is wrong", async () => {
    const res = await h.request(
      "/api/v1/health/ready",
      {},
      { JWT_SECRET: "short-secret-value", UPSTASH_REDIS_REST_URL: undefined },
    );
    const body = await expectProblem(res, 503, "CONFIG_INVALID");
    expect(body.detail).toContain("JWT_SECRET");
    expect(body.detail).toContain("UPSTASH_REDIS_REST_URL");
    expect(body.detail).not.toContain("short-secret-value");
  });
});

describe("request ids", () => {
  it("honours a sane incoming x-request-id and echoes it", async () => {
    const res = await h.request("/api/v1/health", { headers: { "x-request-id": "client-trace-123456" } });
    expect(res.headers.get("x-request-id")).toBe("client-trace-123456");
  });

  it("replaces an insane one with a generated id", async () => {
    const res = await h.request("/api/v1/nope", { headers: { "x-request-id": "<script>alert(1)</script>" } });
    const problem = await readProblem(res);
    expect(problem.requestIdHeader).toMatch(/^req_[0-9a-f]{24}$/);
    expect(problem.body.requestId).toBe(problem.requestIdHeader);
  });
});

describe("CORS and security headers", () => {
  it("allows the configured web origin only", async () => {
    const allowed = await h.request("/api/v1/health", { headers: { origin: "http://localhost:8798" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:8798");
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    const other = await h.request("/api/v1/health", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers a preflight from the web origin", async () => {
    const res = await h.request("/api/v1/health/ready", {
      method: "OPTIONS",
      headers: { origin: "http://localhost:8798", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
  });

  it("lets a browser MCP client from the web origin through the preflight of /mcp, and read its session id", async () => {
    // What the MCP SDK's StreamableHTTPClientTransport sends after `initialize`, as a browser preflights it.
    const res = await h.request("/api/v1/mcp", {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:8798",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,mcp-protocol-version,mcp-session-id",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:8798");
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/\s*,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(["mcp-protocol-version", "mcp-session-id", "authorization"]));
    const answer = await h.request("/api/v1/health", { headers: { origin: "http://localhost:8798" } });
    const exposed = (answer.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(/\s*,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(["mcp-session-id", "x-ape-overhead-ms"]));
  });

  it("sends security headers on every response, errors included", async () => {
    for (const res of [await h.request("/api/v1/health"), await h.request("/api/v1/nope")]) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(res.headers.get("strict-transport-security")).toContain("max-age");
    }
  });
});
