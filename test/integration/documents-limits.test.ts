import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";
import { makeMixedPdf, makePng, makeTextPdf, makeXlsxBomb, utf8 } from "../helpers/test-files.js";

// What a document may cost APE before it is refused: archives measured before they are opened, page and OCR
// limits, OCR and embeddings metered and held to the owner's budget, and a storage quota that holds when
// uploads race. Textract and embeddings are the wire fakes, reached through the official SDKs.

type Doc = {
  id: string;
  status: string;
  kind: string;
  pages: number | null;
  error: { code: string; message: string; retryable: boolean } | null;
};

const textractScope = () => `${inject("fakeTextractUrl")}/s/${crypto.randomUUID()}`;
const scriptTextract = async (base: string, entry: Record<string, unknown>) => {
  const res = await fetch(`${base}/__fake/next`, { method: "POST", body: JSON.stringify(entry) });
  expect(res.status).toBe(204);
};
const textractCalls = async (base: string) => (await (await fetch(`${base}/__fake/requests`)).json()) as unknown[];
const ocrEnv = (endpoint: string) => ({
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIDTEST",
  AWS_SECRET_ACCESS_KEY: "secret-test",
  TEXTRACT_ENDPOINT: endpoint,
});

let h: Harness;
let token: string;
let userId: string;
beforeAll(async () => {
  h = await createHarness();
  const user = await h.signUp();
  token = user.tokens.access_token;
  userId = user.id;
});

const upload = (bytes: Uint8Array, filename: string, who = token, envOverrides: Record<string, unknown> = {}) =>
  h.request(
    `/api/v1/documents?filename=${encodeURIComponent(filename)}`,
    { method: "POST", headers: { ...h.bearer(who), "content-type": "application/octet-stream" }, body: bytes },
    envOverrides,
  );

const uploaded = async (bytes: Uint8Array, filename: string, who = token) => {
  const res = await upload(bytes, filename, who);
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as Doc;
};

const get = async (id: string, who = token) =>
  (await (await h.request(`/api/v1/documents/${id}`, { headers: h.bearer(who) })).json()) as Doc;

const usageRows = (user: string) =>
  h.withDb(async (db) => {
    const rows = await db.execute<{ provider: string; model: string; tokens_input: number; cost_usd: string }>(
      sql`select provider, model, tokens_input, cost_usd from usage_records
          where user_id = ${user} and service = 'documents' order by created_at`,
    );
    return rows.rows;
  });

describe("archives are measured before they are opened", () => {
  it("fails a small XLSX that inflates to hundreds of MB, and the other document of its batch still gets ready", async () => {
    const bomb = await makeXlsxBomb({ inflatesTo: 300 * 1024 * 1024 });
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    const bad = await uploaded(bomb, "bomb.xlsx");
    expect(bad.kind).toBe("xlsx");
    const good = await uploaded(utf8("name,city\nAda,London\n"), "people.csv");
    // One batch: both messages wait until now, and runJobs hands a queue's waiting messages over together.
    expect(h.queues.waiting()).toHaveLength(2);
    await h.runJobs();
    const failed = await get(bad.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({ code: "ARCHIVE_TOO_LARGE", retryable: false });
    expect(failed.error?.message).toContain("67108864");
    expect(await get(good.id)).toMatchObject({ status: "ready", pages: 1 });
  });
});

describe("page limits", () => {
  it("fails a PDF with more pages than DOCUMENT_MAX_PAGES before reading them", async () => {
    const pdf = await makeTextPdf([["one"], ["two"], ["three"]]);
    const doc = await uploaded(pdf, "three.pdf");
    await h.runJobs({ env: { DOCUMENT_MAX_PAGES: "2" } });
    const failed = await get(doc.id);
    expect(failed).toMatchObject({ status: "failed", error: { code: "TOO_MANY_PAGES", retryable: false } });
    expect(failed.error?.message).toContain("3 pages");
  });

  it("fails a PDF with more scanned pages than DOCUMENT_MAX_OCR_PAGES without one call to OCR", async () => {
    const scope = textractScope();
    const pdf = await makeMixedPdf([
      { scan: true, seed: 1 },
      { scan: true, seed: 2 },
      { scan: true, seed: 3 },
    ]);
    const doc = await uploaded(pdf, "scans.pdf");
    await h.runJobs({ env: { ...ocrEnv(scope), DOCUMENT_MAX_OCR_PAGES: "2" } });
    expect(await get(doc.id)).toMatchObject({ status: "failed", error: { code: "TOO_MANY_OCR_PAGES" } });
    expect(await textractCalls(scope)).toHaveLength(0);
    expect(await usageRows(userId)).toHaveLength(0);
  });
});

describe("OCR and embeddings are paid for", () => {
  it("records each OCR page and each embedding call in usage with its cost", async () => {
    const scope = textractScope();
    const openai = `${inject("fakeOpenAiUrl")}/s/${crypto.randomUUID()}`;
    const env = {
      ...ocrEnv(scope),
      EMBEDDING_MODEL: "openai/text-embedding-3-small",
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `${openai}/v1`,
    };
    const someone = await h.signUp();
    await scriptTextract(scope, { lines: ["Receipt for two torque wrenches"] });
    const doc = await uploaded(await makePng(40, 30, 3), "receipt.png", someone.tokens.access_token);
    await h.runJobs({ env });
    expect(await get(doc.id, someone.tokens.access_token)).toMatchObject({ status: "ready" });
    const rows = await usageRows(someone.id);
    expect(rows.map((row) => [row.provider, row.model])).toEqual([
      ["textract", "analyze-document-tables"],
      ["openai", "text-embedding-3-small"],
    ]);
    expect(Number(rows[0]?.cost_usd)).toBeCloseTo(0.015, 8);
    const embedding = rows[1];
    expect(embedding?.tokens_input).toBeGreaterThan(0);
    expect(Number(embedding?.cost_usd)).toBeCloseTo(((embedding?.tokens_input ?? 0) * 0.02) / 1e6, 10);

    // A search embeds its query: that is metered too.
    const res = await h.request(
      "/api/v1/documents/search",
      h.json("POST", { query: "torque wrench receipt" }, h.bearer(someone.tokens.access_token)),
      env,
    );
    expect(res.status).toBe(200);
    expect(await usageRows(someone.id)).toHaveLength(3);
  });

  it("holds OCR to the owner's monthly budget: past it the document fails BUDGET_EXCEEDED, sending nothing", async () => {
    const scope = textractScope();
    const someone = await h.signUp();
    const owner = someone.tokens.access_token;
    const budget = await h.request("/api/v1/users/me", h.json("PUT", { monthly_budget_usd: 0.01 }, h.bearer(owner)));
    expect(budget.status).toBe(200);
    await scriptTextract(scope, { lines: ["First scan"] });
    const first = await uploaded(await makePng(30, 30, 4), "first.png", owner);
    await h.runJobs({ env: ocrEnv(scope) });
    expect(await get(first.id, owner)).toMatchObject({ status: "ready" });
    // One page at $0.015 has spent the $0.01 budget: the next scan is not sent.
    const second = await uploaded(await makePng(30, 30, 5), "second.png", owner);
    await h.runJobs({ env: ocrEnv(scope) });
    expect(await get(second.id, owner)).toMatchObject({
      status: "failed",
      error: { code: "BUDGET_EXCEEDED", retryable: false },
    });
    expect(await textractCalls(scope)).toHaveLength(1);
    expect(await usageRows(someone.id)).toHaveLength(1);
  });
});

describe("uploads stream", () => {
  const sha256 = async (bytes: Uint8Array) =>
    Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join("");

  it("stores a large upload, raw or multipart, byte for byte with its SHA-256", async () => {
    const bytes = utf8("a line of plain text that repeats\n".repeat(100_000));
    const raw = await uploaded(bytes, "big.txt");
    const form = new FormData();
    form.set("file", new File([bytes], "big-form.txt", { type: "text/plain" }));
    const res = await h.request("/api/v1/documents", { method: "POST", headers: h.bearer(token), body: form });
    expect(res.status).toBe(202);
    const multipart = (await res.json()) as Doc & { sha256: string; size_bytes: number };
    const expected = await sha256(bytes);
    for (const doc of [raw as Doc & { sha256: string; size_bytes: number }, multipart]) {
      expect(doc).toMatchObject({ kind: "text", size_bytes: bytes.byteLength, sha256: expected });
      const stored = await env.FILES.get(`users/${userId}/documents/${doc.id}`);
      expect(await sha256(new Uint8Array(await (stored as R2ObjectBody).arrayBuffer()))).toBe(expected);
    }
  });

  it("tells the kind from the first bytes, and still refuses a text file that turns binary after them", async () => {
    const someone = await h.signUp();
    const start = utf8("plain words ".repeat(20_000));
    const bytes = new Uint8Array(start.byteLength + 3);
    bytes.set(start);
    bytes.set([0xff, 0xfe, 0x00], start.byteLength);
    const res = await upload(bytes, "sneaky.txt", someone.tokens.access_token);
    const problem = await readProblem(res);
    expect([problem.status, problem.body.code]).toEqual([415, "UNSUPPORTED_DOCUMENT_TYPE"]);
    const listed = (await (
      await h.request("/api/v1/documents", { headers: h.bearer(someone.tokens.access_token) })
    ).json()) as { items: unknown[] };
    expect(listed.items).toHaveLength(0);
    expect((await env.FILES.list({ prefix: `users/${someone.id}/` })).objects).toHaveLength(0);
  });
});

describe("the storage quota", () => {
  // Filling the account takes a few seconds; the race itself well under one.
  it("holds when 12 uploads of 600 kB race for a 4 MB quota", { timeout: 60_000 }, async () => {
    const someone = await h.signUp();
    const quota = 4_000_000;
    const file = (n: number) => utf8(`${String(n).padStart(2, "0")}${"x".repeat(600_000 - 2)}`);
    // Locally a statement takes well under a millisecond, so uploads that arrive together would still reach
    // the database one after another and never overlap. An account that already holds many (empty) documents
    // makes the sum over them take a while, as a loaded production database would, and the uploads overlap.
    await h.withDb((db) =>
      db.execute(sql`
        insert into documents (id, user_id, filename, kind, media_type, size_bytes, sha256, object_key, status)
        select 'doc_filler' || n, ${someone.id}, 'empty.txt', 'text', 'text/plain', 0, '', 'none', 'ready'
        from generate_series(1, 300000) as n`),
    );
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        upload(file(n), `part-${n}.txt`, someone.tokens.access_token, { DOCUMENT_QUOTA_BYTES: String(quota) }),
      ),
    );
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(6);
    const refused = answers.filter((res) => res.status !== 202);
    for (const res of refused) expect((await readProblem(res)).body.code).toBe("STORAGE_QUOTA_EXCEEDED");
    const stored = await h.withDb((db) =>
      db.execute<{ total: number }>(
        sql`select coalesce(sum(size_bytes), 0)::int as total from documents where user_id = ${someone.id}`,
      ),
    );
    expect(stored.rows[0]?.total).toBeLessThanOrEqual(quota);
    expect(stored.rows[0]?.total).toBe(6 * 600_000);
  });
});
