import { env } from "cloudflare:test";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { verifyAccessToken } from "../../src/services/auth/access-tokens.js";
import { type Credential, forgedTokens, runAuthorisationKit } from "../helpers/authz-kit.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { anyCodeToolAnswer, llmFakes } from "../helpers/llm-fakes.js";

let h: Harness;
let doc: Parameters<typeof runAuthorisationKit>[0]["doc"];
beforeAll(async () => {
  // Providers answer (from the local fakes), so model routes reach their owner checks instead of a 503; with
  // an answer the code tools accept, not a 502 for the fake's default `{}`.
  const fakes = llmFakes();
  // Firecrawl (its wire fake, with no pages) is configured too, so research routes reach their owner checks.
  h = await createHarness({
    ...fakes.env(),
    FIRECRAWL_API_KEY: "fc-test",
    FIRECRAWL_API_URL: `${inject("fakeFirecrawlUrl")}/s/${crypto.randomUUID()}`,
    // Webhook endpoints on the local receiver pass the URL checks.
    FETCH_ALLOW_HOSTS: new URL(inject("fakeSitesUrl")).host,
    // The kit sends every bad credential to every route from one address; each must answer 401 for what it
    // is, not 429 for the flood (which test/integration/credential-limits.test.ts covers).
    RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "1000000",
  });
  await fakes.scriptGroq({ reply: anyCodeToolAnswer, times: 1_000 });
  doc = (await (await h.request("/api/v1/openapi.json")).json()) as typeof doc;
});

const createKey = async (token: string, scopes: string[]) => {
  const res = await h.request("/api/v1/users/me/api-keys", h.json("POST", { name: "kit", scopes }, h.bearer(token)));
  return (await res.json()) as { id: string; key: string };
};

describe("the authorisation kit over every protected route", () => {
  it("refuses every bad credential and never shows one user's resources to another", async () => {
    const victim = await h.signUp();
    const claims = await verifyAccessToken({ secret: env.JWT_SECRET, token: victim.tokens.access_token });
    const victimKey = await createKey(victim.tokens.access_token, ["read"]);
    const victimTitle = `victim's ${crypto.randomUUID()}`;
    const victimConversation = (await (
      await h.request(
        "/api/v1/chat/conversations",
        h.json("POST", { title: victimTitle }, h.bearer(victim.tokens.access_token)),
      )
    ).json()) as { id: string };

    // A session that has logged out, a revoked key, and a key whose scope covers nothing here.
    const loggedOut = await h.signUp();
    await h.request("/api/v1/auth/logout", { method: "POST", headers: h.bearer(loggedOut.tokens.access_token) });
    const revoked = await createKey(victim.tokens.access_token, ["read"]);
    await h.request(`/api/v1/users/me/api-keys/${revoked.id}`, {
      method: "DELETE",
      headers: h.bearer(victim.tokens.access_token),
    });
    // Every scope now has routes, so the narrow key holds one (`code`) and is expected to be refused
    // everywhere but the code tools, which it may use (they hold no resource of anyone's), and the MCP server,
    // which any key may reach: its tools check their scopes one by one (test/integration/mcp.test.ts).
    const narrowKey = await createKey(victim.tokens.access_token, ["code"]);
    const intruder = await h.signUp();
    const victimDocumentText = `victim's document ${crypto.randomUUID()}`;
    const form = new FormData();
    form.set("file", new File([victimDocumentText], "victim.txt", { type: "text/plain" }));
    const victimDocument = (await (
      await h.request("/api/v1/documents", {
        method: "POST",
        headers: h.bearer(victim.tokens.access_token),
        body: form,
      })
    ).json()) as { id: string };
    await h.runJobs();
    const victimJob = (await (
      await h.request(
        "/api/v1/extraction/jobs",
        h.json(
          "POST",
          {
            source_type: "document",
            document_id: victimDocument.id,
            schema: { columns: [{ name: "line", type: "string" }] },
          },
          h.bearer(victim.tokens.access_token),
        ),
      )
    ).json()) as { id: string };
    const victimQuery = `victim's question ${crypto.randomUUID()}`;
    const victimResearch = (await (
      await h.request(
        "/api/v1/research/sessions",
        h.json("POST", { query: victimQuery }, h.bearer(victim.tokens.access_token)),
      )
    ).json()) as { id: string };

    const victimHookUrl = `${inject("fakeSitesUrl")}/s/${crypto.randomUUID()}/hook/victim`;
    const victimEndpoint = (await (
      await h.request(
        "/api/v1/users/me/webhooks",
        h.json("POST", { url: victimHookUrl, event_types: ["document.ready"] }, h.bearer(victim.tokens.access_token)),
      )
    ).json()) as { id: string; secret: string };
    const victimDelivery = (await (
      await h.request(`/api/v1/users/me/webhooks/${victimEndpoint.id}/test`, {
        method: "POST",
        headers: h.bearer(victim.tokens.access_token),
      })
    ).json()) as { delivery_id: string };
    await h.runJobs();

    const forged = await forgedTokens({ id: victim.id, sessionId: claims?.sid ?? "" });
    const refused = [401];
    const credentials: Credential[] = [
      { name: "no credentials", headers: {}, expect: refused },
      { name: "a malformed token", headers: h.bearer("not.a.jwt"), expect: refused },
      { name: "a non-bearer scheme", headers: { authorization: `Basic ${btoa("a:b")}` }, expect: refused },
      { name: "an expired token", headers: h.bearer(forged.expired), expect: refused },
      { name: "alg none", headers: h.bearer(forged.algNone), expect: refused },
      { name: "a token signed with another key", headers: h.bearer(forged.otherKey), expect: refused },
      { name: "a token with another algorithm", headers: h.bearer(forged.otherAlgorithm), expect: refused },
      { name: "a token for another audience", headers: h.bearer(forged.wrongAudience), expect: refused },
      { name: "a token from another issuer", headers: h.bearer(forged.wrongIssuer), expect: refused },
      { name: "a token not yet valid", headers: h.bearer(forged.notYetValid), expect: refused },
      { name: "a logged-out session's token", headers: h.bearer(loggedOut.tokens.access_token), expect: refused },
      { name: "a revoked API key", headers: h.bearer(revoked.key), expect: refused },
      { name: "an unknown API key", headers: { "x-api-key": `ape_${"x".repeat(43)}` }, expect: refused },
      {
        name: "a key without the scope",
        headers: h.bearer(narrowKey.key),
        expect: (op) => (op.path.startsWith("/api/v1/code/") || op.path === "/api/v1/mcp" ? [200, 400] : [403]),
      },
      // Another user, validly signed in: a route on one of the victim's ids answers 404; a /me route acts on
      // the intruder's own account (or refuses the example body's password), which the leak check watches.
      {
        name: "another user's token",
        headers: h.bearer(intruder.tokens.access_token),
        // A search or a research session naming documents (the example's id is nobody's) answers 404 like
        // any id not theirs; an upload (the example body, stored as the intruder's own text file) is 202.
        expect: (op) =>
          op.path.includes("{")
            ? [404]
            : op.path.endsWith("/documents/search") ||
                (op.method.toLowerCase() === "post" && op.path === "/api/v1/research/sessions")
              ? [404]
              : // The example body names a url, a document and text at once, which detection refuses.
                op.path.endsWith("/schema/detect")
                ? [400]
                : [200, 201, 202, 204, 400, 403, 409],
      },
    ];

    const { surprises, operations } = await runAuthorisationKit({
      h,
      doc,
      credentials,
      resources: {
        "/api/v1/users/me/api-keys/{id}": victimKey.id,
        // Also the id of every route under it (messages, stream, cancel).
        "/api/v1/chat/conversations/{id}": victimConversation.id,
        "/api/v1/documents/{id}": victimDocument.id,
        "/api/v1/extraction/jobs/{id}": victimJob.id,
        // Also the id of every route under it (events, export, cancel, retry, document).
        "/api/v1/research/sessions/{id}": victimResearch.id,
        // Also the id of every route under it (rotate, test, deliveries).
        "/api/v1/users/me/webhooks/{id}": victimEndpoint.id,
        "/api/v1/users/me/webhooks/deliveries/{id}": victimDelivery.delivery_id,
      },
      secrets: [
        victim.email,
        victimKey.key,
        victimTitle,
        victimDocumentText,
        victimQuery,
        victimHookUrl,
        victimEndpoint.secret,
      ],
    });
    expect(operations).toBeGreaterThanOrEqual(7);
    expect(surprises).toEqual([]);

    // The intruder's attempt on the victim's key did not revoke it.
    expect((await h.request("/api/v1/users/me", { headers: h.bearer(victimKey.key) })).status).toBe(200);
    // Nor did the attempts on the victim's conversation change or delete it.
    const kept = await h.request(`/api/v1/chat/conversations/${victimConversation.id}`, {
      headers: h.bearer(victimKey.key),
    });
    expect(kept.status).toBe(200);
    expect(await kept.json()).toMatchObject({ title: victimTitle, message_count: 0 });
    // Nor did they delete, rotate, test or redeliver the victim's webhook endpoint.
    const keptEndpoint = await h.request(`/api/v1/users/me/webhooks/${victimEndpoint.id}/deliveries`, {
      headers: h.bearer(victim.tokens.access_token),
    });
    expect(keptEndpoint.status).toBe(200);
    expect(((await keptEndpoint.json()) as { items: Array<{ attempts: number }> }).items).toMatchObject([
      { attempts: 1 },
    ]);
    const endpointNow = await h.request(`/api/v1/users/me/webhooks/${victimEndpoint.id}`, {
      headers: h.bearer(victim.tokens.access_token),
    });
    expect(await endpointNow.json()).toMatchObject({ enabled: true, previous_secret_expires_at: null });
    // Nor did they delete, retry or read the victim's document; another user's search never finds it.
    const keptDocument = await h.request(`/api/v1/documents/${victimDocument.id}`, {
      headers: h.bearer(victimKey.key),
    });
    expect(await keptDocument.json()).toMatchObject({ status: "ready", attempts: 1 });
    // (The kit signed the intruder out last; another user searches.)
    const searcher = await h.signUp();
    const theirSearch = await h.request(
      "/api/v1/documents/search",
      h.json("POST", { query: victimDocumentText, k: 5 }, h.bearer(searcher.tokens.access_token)),
    );
    expect(await theirSearch.json()).toMatchObject({ results: [] });
    // Nor can research read it: the victim's document id answers 404, exactly as an id that does not exist.
    const research = (ids: string[]) =>
      h.request(
        "/api/v1/research/sessions",
        h.json(
          "POST",
          { query: "What does it say?", sources: "documents", document_ids: ids },
          h.bearer(searcher.tokens.access_token),
        ),
      );
    const theirs = await research([victimDocument.id]);
    const missing = await research(["doc_00000000000000000000000000"]);
    expect([theirs.status, missing.status]).toEqual([404, 404]);
    const [a, b] = [
      (await theirs.json()) as Record<string, unknown>,
      (await missing.json()) as Record<string, unknown>,
    ];
    expect([a.code, a.title]).toEqual([b.code, b.title]);
    // Every protected operation is tried with every bad credential and as another user, one after another:
    // the time grows with the API, past the 20 s default that was sized for a smaller one.
  }, 90_000);

  it("answers another user's key id with 404, exactly as an id that does not exist", async () => {
    const owner = await h.signUp();
    const key = await createKey(owner.tokens.access_token, ["read"]);
    const other = await h.signUp();
    const theirs = await h.request(`/api/v1/users/me/api-keys/${key.id}`, {
      method: "DELETE",
      headers: h.bearer(other.tokens.access_token),
    });
    const missing = await h.request("/api/v1/users/me/api-keys/key_00000000000000000000000000", {
      method: "DELETE",
      headers: h.bearer(other.tokens.access_token),
    });
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    const [a, b] = [
      (await theirs.json()) as Record<string, unknown>,
      (await missing.json()) as Record<string, unknown>,
    ];
    expect(a.code).toBe(b.code);
    expect(a.title).toBe(b.title);
  });
});
