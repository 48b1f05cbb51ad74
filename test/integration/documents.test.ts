import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";
import { makeMixedPdf, makePng, makeTextPdf, makeXlsx, utf8 } from "../helpers/test-files.js";

// Documents as a user meets them: upload real files, wait for the queue to read them, read their text back,
// search them, retry what failed and delete them. OCR goes to the local Textract wire fake, embeddings to the
// OpenAI-compatible fake; Postgres, Redis, R2 and the queue handler are the real ones.

type Doc = {
  id: string;
  status: string;
  kind: string;
  pages: number | null;
  chunks: number | null;
  ocr_pages: number | null;
  attempts: number;
  embedding_model: string | null;
  error: { code: string; message: string; retryable: boolean } | null;
};
type Text = { pages: Array<{ page: number; label: string | null; ocr: boolean; text: string }>; total_pages: number };
type Hits = {
  mode: string;
  results: Array<{
    document_id: string;
    page: number;
    quote: string;
    char_start: number;
    char_end: number;
    matched_by: string[];
  }>;
};

const textractScope = () => `${inject("fakeTextractUrl")}/s/${crypto.randomUUID()}`;
const scriptTextract = async (base: string, entry: Record<string, unknown>) => {
  const res = await fetch(`${base}/__fake/next`, { method: "POST", body: JSON.stringify(entry) });
  expect(res.status).toBe(204);
};
const textractCalls = async (base: string) =>
  (await (await fetch(`${base}/__fake/requests`)).json()) as Array<{ kind: string; pages: number }>;

const ocrEnv = (endpoint: string) => ({
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIDTEST",
  AWS_SECRET_ACCESS_KEY: "secret-test",
  TEXTRACT_ENDPOINT: endpoint,
});

let h: Harness;
let token: string;
let textract: string;
beforeAll(async () => {
  textract = textractScope();
  h = await createHarness(ocrEnv(textract));
  token = (await h.signUp()).tokens.access_token;
});

const upload = async (
  bytes: Uint8Array,
  filename: string,
  type = "application/octet-stream",
  as: "multipart" | "raw" = "multipart",
  who = token,
) => {
  if (as === "raw") {
    return h.request(`/api/v1/documents?filename=${encodeURIComponent(filename)}`, {
      method: "POST",
      headers: { ...h.bearer(who), "content-type": type },
      body: bytes,
    });
  }
  const form = new FormData();
  form.set("file", new File([bytes], filename, { type }));
  return h.request("/api/v1/documents", { method: "POST", headers: h.bearer(who), body: form });
};

const uploaded = async (...args: Parameters<typeof upload>) => {
  const res = await upload(...args);
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as Doc;
};

const get = async <T>(path: string, who = token) => {
  const res = await h.request(path, { headers: h.bearer(who) });
  return { status: res.status, body: (await res.json()) as T };
};

const search = async (body: Record<string, unknown>, envOverrides: Record<string, unknown> = {}) => {
  const res = await h.request("/api/v1/documents/search", h.json("POST", body, h.bearer(token)), envOverrides);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Hits;
};

describe("uploading and reading documents", () => {
  it("reads a three-page text PDF page by page", async () => {
    const pdf = await makeTextPdf([
      ["Quarterly report", "Revenue grew twelve percent in the third quarter."],
      ["Hiring", "The platform team hired four engineers in Lisbon."],
      ["Outlook", "We expect the gearbox supplier contract to close in December."],
    ]);
    const doc = await uploaded(pdf, "q3.pdf", "application/pdf");
    expect(doc).toMatchObject({ status: "pending", kind: "pdf" });
    await h.runJobs();
    const { body: ready } = await get<Doc>(`/api/v1/documents/${doc.id}`);
    expect(ready).toMatchObject({ status: "ready", pages: 3, ocr_pages: 0, error: null, attempts: 1 });
    expect(ready.chunks).toBeGreaterThanOrEqual(3);
    const { body: text } = await get<Text>(`/api/v1/documents/${doc.id}/text`);
    expect(text.total_pages).toBe(3);
    expect(text.pages.map((page) => page.page)).toEqual([1, 2, 3]);
    expect(text.pages[1]?.text).toContain("four engineers in Lisbon");
    expect(text.pages[2]?.text).toContain("gearbox supplier");
    expect(text.pages[0]?.text).not.toContain("Lisbon");
  });

  it("reads a scanned page (an image) through OCR, with its table kept as a table", async () => {
    await scriptTextract(textract, {
      lines: ["INVOICE 2291", "Acme Tooling Ltd, Sheffield"],
      tables: [
        [
          ["Item", "Qty", "Price"],
          ["Torque wrench", "2", "84.00"],
        ],
      ],
    });
    const doc = await uploaded(await makePng(80, 60, 5), "scan.png", "image/png", "raw");
    expect(doc.kind).toBe("image");
    await h.runJobs();
    const { body: ready } = await get<Doc>(`/api/v1/documents/${doc.id}`);
    expect(ready).toMatchObject({ status: "ready", pages: 1, ocr_pages: 1 });
    const { body: text } = await get<Text>(`/api/v1/documents/${doc.id}/text`);
    expect(text.pages[0]).toMatchObject({ page: 1, ocr: true });
    expect(text.pages[0]?.text).toContain("INVOICE 2291");
    expect(text.pages[0]?.text).toMatch(/\|\s*Torque wrench\s*\|\s*2\s*\|\s*84\.00\s*\|/);
    const calls = await textractCalls(textract);
    expect(calls.at(-1)).toMatchObject({ kind: "png" });
  });

  it("sends only a PDF's scanned page to OCR, as a one-page PDF, and keeps page numbers", async () => {
    const scope = textractScope();
    await scriptTextract(scope, { lines: ["Signed by the harbour master on 3 March"] });
    const pdf = await makeMixedPdf([
      ["Berth allocation for the spring season"],
      { scan: true },
      ["Appendix: tide tables"],
    ]);
    const doc = await uploaded(pdf, "harbour.pdf", "application/pdf");
    await h.runJobs({ env: ocrEnv(scope) });
    const { body: ready } = await get<Doc>(`/api/v1/documents/${doc.id}`);
    expect(ready).toMatchObject({ status: "ready", pages: 3, ocr_pages: 1 });
    const { body: text } = await get<Text>(`/api/v1/documents/${doc.id}/text`);
    expect(text.pages[1]).toMatchObject({ page: 2, ocr: true });
    expect(text.pages[1]?.text).toContain("harbour master");
    expect(text.pages[2]?.text).toContain("tide tables");
    const calls = await textractCalls(scope);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ kind: "pdf", pages: 1 });
  });

  it("reads a CSV, every sheet of an XLSX, and an HTML page", async () => {
    const csv = await uploaded(
      utf8('city,population,note\nLisbon,545000,"capital, coastal"\nPorto,232000,"north\nof Lisbon"\n'),
      "cities.csv",
      "text/csv",
    );
    const xlsx = await uploaded(
      await makeXlsx({
        Revenue: [
          ["Quarter", "Amount"],
          ["Q1", 120],
          ["Q2", 135],
        ],
        Staff: [
          ["Team", "Headcount"],
          ["Platform", 14],
        ],
      }),
      "finance.bin",
    );
    const html = await uploaded(
      utf8(
        "<!doctype html><html><head><title>Ferry</title><script>alert('x')</script></head><body><h1>Ferry timetable</h1><p>The first ferry leaves at 06:40.</p></body></html>",
      ),
      "ferry.html",
      "text/html",
      "raw",
    );
    expect([csv.kind, xlsx.kind, html.kind]).toEqual(["csv", "xlsx", "html"]);
    await h.runJobs();

    const csvText = await get<Text>(`/api/v1/documents/${csv.id}/text`);
    expect(csvText.status).toBe(200);
    expect(csvText.body.pages).toHaveLength(1);
    expect(csvText.body.pages[0]?.text).toContain("Lisbon");
    expect(csvText.body.pages[0]?.text).toContain("capital, coastal");

    const xlsxText = await get<Text>(`/api/v1/documents/${xlsx.id}/text`);
    expect(xlsxText.body.pages.map((page) => page.label)).toEqual(["Revenue", "Staff"]);
    expect(xlsxText.body.pages[0]?.text).toContain("135");
    expect(xlsxText.body.pages[1]?.text).toContain("Platform");

    const htmlText = await get<Text>(`/api/v1/documents/${html.id}/text`);
    expect(htmlText.body.pages[0]?.text).toContain("Ferry timetable");
    expect(htmlText.body.pages[0]?.text).toContain("06:40");
    expect(htmlText.body.pages[0]?.text).not.toContain("alert(");
  });

  it("lists the caller's documents by status and kind, a page at a time", async () => {
    const first = await get<{ items: Doc[]; next_cursor: string | null }>("/api/v1/documents?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next_cursor).not.toBeNull();
    const rest = await get<{ items: Doc[] }>(`/api/v1/documents?limit=100&cursor=${first.body.next_cursor}`);
    const ids = [...first.body.items, ...rest.body.items].map((doc) => doc.id);
    expect(new Set(ids).size).toBe(ids.length);
    const pdfs = await get<{ items: Doc[] }>("/api/v1/documents?kind=pdf&status=ready&limit=100");
    expect(pdfs.body.items.length).toBeGreaterThanOrEqual(2);
    expect(pdfs.body.items.every((doc) => doc.kind === "pdf" && doc.status === "ready")).toBe(true);
  });
});

describe("failures", () => {
  it("fails a corrupt PDF with a clear error, keeps it, and can retry it", async () => {
    const doc = await uploaded(utf8("%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage garbage\n%%EOF"), "broken.pdf");
    expect(doc.kind).toBe("pdf");
    await h.runJobs();
    const { body: failed } = await get<Doc>(`/api/v1/documents/${doc.id}`);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({ code: "CORRUPT_DOCUMENT", retryable: false });
    expect(failed.error?.message).toMatch(/PDF/);
    // Nothing half-written: no text, no passages.
    expect((await get(`/api/v1/documents/${doc.id}/text`)).status).toBe(409);
    const chunks = await h.withDb((db) =>
      db.execute<{ n: number }>(sql`select count(*)::int as n from document_chunks where document_id = ${doc.id}`),
    );
    expect(chunks.rows[0]?.n).toBe(0);

    const retried = await h.request(`/api/v1/documents/${doc.id}/retry`, { method: "POST", headers: h.bearer(token) });
    expect(retried.status).toBe(202);
    expect(((await retried.json()) as Doc).status).toBe("pending");
    await h.runJobs();
    const { body: again } = await get<Doc>(`/api/v1/documents/${doc.id}`);
    expect(again).toMatchObject({ status: "failed", attempts: 2 });
    // A document that has not failed has nothing to retry.
    const ready = await uploaded(utf8("plain notes"), "notes.txt", "text/plain");
    await h.runJobs();
    const conflict = await h.request(`/api/v1/documents/${ready.id}/retry`, {
      method: "POST",
      headers: h.bearer(token),
    });
    expect((await readProblem(conflict)).body.code).toBe("CONFLICT");
  });

  it("retries a busy OCR service with backoff, fails when it stays busy, and succeeds on retry", async () => {
    const scope = textractScope();
    await scriptTextract(scope, { status: 400, type: "ThrottlingException", message: "Rate exceeded", times: 6 });
    const doc = await uploaded(await makePng(40, 40, 9), "busy.png", "image/png");
    await h.runJobs({ env: ocrEnv(scope) });
    const deliveries = h.queues.deliveries().filter((delivery) => delivery.queue === "ape-documents");
    const retries = deliveries.filter((delivery) => delivery.outcome === "retry").slice(-5);
    expect(retries).toHaveLength(5);
    const delays = retries.map((delivery) => delivery.delaySeconds ?? 0);
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(delays[0]).toBeLessThan(delays[4] ?? 0);
    const { body: failed } = await get<Doc>(`/api/v1/documents/${doc.id}`);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({ retryable: true });
    expect(failed.error?.code).toMatch(/^OCR_/);

    await scriptTextract(scope, { lines: ["Busy no more"] });
    await h.request(`/api/v1/documents/${doc.id}/retry`, { method: "POST", headers: h.bearer(token) });
    await h.runJobs({ env: ocrEnv(scope) });
    const { body: ready } = await get<Doc>(`/api/v1/documents/${doc.id}`);
    expect(ready.status).toBe("ready");
    expect((await get<Text>(`/api/v1/documents/${doc.id}/text`)).body.pages[0]?.text).toContain("Busy no more");
  });

  it("fails a scan with a clear error naming the settings when no OCR is configured", async () => {
    const doc = await uploaded(await makePng(30, 30, 2), "no-ocr.png", "image/png");
    await h.runJobs({ env: { AWS_REGION: "", AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" } });
    const { body } = await get<Doc>(`/api/v1/documents/${doc.id}`);
    expect(body.status).toBe("failed");
    expect(body.error?.code).toBe("OCR_NOT_CONFIGURED");
    expect(body.error?.message).toContain("AWS_ACCESS_KEY_ID");
  });

  it("ingests once when the queue delivers the same message twice", async () => {
    const doc = await uploaded(await makeTextPdf([["Duplicate delivery is harmless"], ["Second page"]]), "dup.pdf");
    await h.runJobs({ duplicate: true });
    const { body } = await get<Doc>(`/api/v1/documents/${doc.id}`);
    expect(body).toMatchObject({ status: "ready", pages: 2, attempts: 1 });
    const rows = await h.withDb((db) =>
      db.execute<{ n: number; ordinals: number }>(
        sql`select count(*)::int as n, count(distinct ordinal)::int as ordinals from document_chunks where document_id = ${doc.id}`,
      ),
    );
    expect(rows.rows[0]?.n).toBe(body.chunks);
    expect(rows.rows[0]?.ordinals).toBe(body.chunks);
  });

  it("refuses files that are too large, of a kind it cannot read, or past the quota", async () => {
    const tooLarge = await h.request(
      "/api/v1/documents?filename=big.txt",
      {
        method: "POST",
        headers: { ...h.bearer(token), "content-type": "text/plain" },
        body: new Uint8Array(2048).fill(65),
      },
      { DOCUMENT_MAX_BYTES: "1024" },
    );
    const problem = await readProblem(tooLarge);
    expect(problem).toMatchObject({ status: 413, contentType: "application/problem+json" });
    expect(problem.body.code).toBe("DOCUMENT_TOO_LARGE");

    const form = await readProblem(
      await h.request("/api/v1/documents", {
        method: "POST",
        headers: { ...h.bearer(token), "content-type": "application/x-www-form-urlencoded" },
        body: "file=abc",
      }),
    );
    // A URL-encoded form holds no file: the problem names the missing part.
    expect([form.status, form.body.code]).toEqual([400, "VALIDATION_FAILED"]);
    expect(form.body.errors).toEqual([expect.objectContaining({ path: "body.file" })]);

    const gif = utf8("GIF89a\u0001\u0000\u0001\u0000\u0000\u0000\u0000;");
    const unsupported = await readProblem(await upload(gif, "picture.pdf", "application/pdf"));
    expect(unsupported.status).toBe(415);
    expect(unsupported.body.code).toBe("UNSUPPORTED_DOCUMENT_TYPE");

    const someone = await h.signUp();
    const overQuota = await h.request(
      "/api/v1/documents?filename=a.txt",
      {
        method: "POST",
        headers: { ...h.bearer(someone.tokens.access_token), "content-type": "text/plain" },
        body: utf8("x".repeat(600)),
      },
      { DOCUMENT_QUOTA_BYTES: "1000" },
    );
    expect(overQuota.status).toBe(202);
    const second = await h.request(
      "/api/v1/documents?filename=b.txt",
      {
        method: "POST",
        headers: { ...h.bearer(someone.tokens.access_token), "content-type": "text/plain" },
        body: utf8("y".repeat(600)),
      },
      { DOCUMENT_QUOTA_BYTES: "1000" },
    );
    const quota = await readProblem(second);
    expect(quota.status).toBe(413);
    expect(quota.body.code).toBe("STORAGE_QUOTA_EXCEEDED");
    const listed = await get<{ items: Doc[] }>("/api/v1/documents", someone.tokens.access_token);
    expect(listed.body.items).toHaveLength(1);
  });

  it("keeps the document, marked failed and retryable, when the queue refuses it", async () => {
    h.queues.refuseSends(true);
    const res = await upload(utf8("queued later"), "later.txt", "text/plain");
    h.queues.refuseSends(false);
    expect((await readProblem(res)).status).toBe(503);
    const { body } = await get<{ items: Doc[] }>("/api/v1/documents?status=failed&limit=100");
    const kept = body.items.find((doc) => doc.error?.code === "QUEUE_UNAVAILABLE");
    expect(kept?.error?.retryable).toBe(true);
    await h.request(`/api/v1/documents/${kept?.id}/retry`, { method: "POST", headers: h.bearer(token) });
    await h.runJobs();
    expect((await get<Doc>(`/api/v1/documents/${kept?.id}`)).body.status).toBe("ready");
  });
});

describe("searching", () => {
  it("finds a known passage by its words with no embedding model, naming document and page", async () => {
    const doc = await uploaded(
      await makeTextPdf([
        ["Lease agreement"],
        ["Section 9. Either party may end the lease early by paying a termination fee of two months rent."],
      ]),
      "lease.pdf",
    );
    await h.runJobs();
    const hits = await search({ query: "what is the termination fee", k: 3 });
    expect(hits.mode).toBe("text");
    expect(hits.results[0]).toMatchObject({ document_id: doc.id, page: 2, matched_by: ["text"] });
    expect(hits.results[0]?.quote).toContain("termination fee");
    // Offsets point into the page's text.
    const { body: text } = await get<Text>(`/api/v1/documents/${doc.id}/text`);
    const hit = hits.results[0];
    expect(text.pages[1]?.text.slice(hit?.char_start, hit?.char_end)).toContain("termination fee");
    // Limited to other documents, the lease is not found.
    const other = await uploaded(utf8("Nothing about leases here."), "other.txt", "text/plain");
    await h.runJobs();
    const narrowed = await search({ query: "termination fee", k: 3, document_ids: [other.id] });
    expect(narrowed.results).toEqual([]);
  });

  it("finds a passage by meaning when an embedding model is configured, and deletes its vectors with it", async () => {
    const openai = `${inject("fakeOpenAiUrl")}/s/${crypto.randomUUID()}`;
    const embedding = {
      EMBEDDING_MODEL: "openai/text-embedding-3-small",
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `${openai}/v1`,
    };
    const meaning = await createHarness({ ...embedding, ...ocrEnv(textract) });
    const owner = (await meaning.signUp()).tokens.access_token;
    const form = (bytes: Uint8Array, name: string) => {
      const body = new FormData();
      body.set("file", new File([bytes], name));
      return { method: "POST", headers: meaning.bearer(owner), body };
    };
    const garage = (await (
      await meaning.request(
        "/api/v1/documents",
        form(utf8("Our garage does car maintenance and vehicle servicing."), "garage.txt"),
      )
    ).json()) as Doc;
    await meaning.request(
      "/api/v1/documents",
      form(utf8("A chocolate cake recipe with cocoa and butter."), "cake.txt"),
    );
    await meaning.runJobs();
    const ready = (await (
      await meaning.request(`/api/v1/documents/${garage.id}`, { headers: meaning.bearer(owner) })
    ).json()) as Doc;
    expect(ready).toMatchObject({ status: "ready", embedding_model: "openai/text-embedding-3-small" });

    const res = await meaning.request(
      "/api/v1/documents/search",
      meaning.json("POST", { query: "automobile repair", k: 2 }, meaning.bearer(owner)),
    );
    const hits = (await res.json()) as Hits;
    expect(hits.mode).toBe("hybrid");
    // No word of the query is in the passage: only the vectors can have found it.
    expect(hits.results[0]).toMatchObject({ document_id: garage.id, matched_by: ["vector"] });

    const vectorsOf = () =>
      meaning.withDb((db) =>
        db.execute<{ n: number }>(sql`select count(*)::int as n from vector_entries where id like ${`${garage.id}#%`}`),
      );
    expect((await vectorsOf()).rows[0]?.n).toBeGreaterThan(0);
    const removed = await meaning.request(`/api/v1/documents/${garage.id}`, {
      method: "DELETE",
      headers: meaning.bearer(owner),
    });
    expect(removed.status).toBe(204);
    expect((await vectorsOf()).rows[0]?.n).toBe(0);
  });
});

describe("deleting", () => {
  it("removes the stored object, the text and the passages, and then answers 404", async () => {
    const doc = await uploaded(await makeTextPdf([["Delete me entirely"]]), "gone.pdf");
    await h.runJobs();
    const [row] = (
      await h.withDb((db) =>
        db.execute<{ object_key: string }>(sql`select object_key from documents where id = ${doc.id}`),
      )
    ).rows;
    expect(await env.FILES.head(row?.object_key ?? "")).not.toBeNull();
    const res = await h.request(`/api/v1/documents/${doc.id}`, { method: "DELETE", headers: h.bearer(token) });
    expect(res.status).toBe(204);
    expect(await env.FILES.head(row?.object_key ?? "")).toBeNull();
    const left = await h.withDb((db) =>
      db.execute<{ n: number }>(
        sql`select (select count(*) from document_chunks where document_id = ${doc.id}) + (select count(*) from document_pages where document_id = ${doc.id}) as n`,
      ),
    );
    expect(Number(left.rows[0]?.n)).toBe(0);
    expect((await get(`/api/v1/documents/${doc.id}`)).status).toBe(404);
    expect((await search({ query: "delete entirely", k: 5 })).results.some((hit) => hit.document_id === doc.id)).toBe(
      false,
    );
  });

  it("commits nothing when the document is deleted while it is being read", async () => {
    const doc = await uploaded(await makeTextPdf([["Deleted mid-flight"]]), "mid.pdf");
    // The upload's message waits; the document goes before it is delivered.
    await h.request(`/api/v1/documents/${doc.id}`, { method: "DELETE", headers: h.bearer(token) });
    await h.runJobs();
    const left = await h.withDb((db) =>
      db.execute<{ n: number }>(sql`select count(*)::int as n from document_chunks where document_id = ${doc.id}`),
    );
    expect(left.rows[0]?.n).toBe(0);
  });
});
