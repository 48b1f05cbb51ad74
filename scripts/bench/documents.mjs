// Documents, measured end to end through `wrangler dev` on the test stack, with embeddings from the local
// OpenAI-compatible fake: `npm run bench:documents`. Prints figures, asserts nothing. In one run:
// 1. Ingest: a generated 200-page text PDF uploaded through the API and polled every 50 ms until `ready`,
//    three times (median): upload → ready in pages/second, split into the wait for the queue consumer (the
//    local queue's batch timeout) and the processing itself. Beside it, unpdf's `extractText` on the same bytes
//    in Node: the text layer alone. Then, unless --skip-plain, the same three uploads on a second `wrangler dev`
//    without EMBEDDING_MODEL (full-text only).
// 2. Search over 20,000 chunks seeded straight into Postgres (prose of mixed vocabulary, 20 planted passages,
//    a vector each from the fake's `embed`): interleaved, `mode: "text"` and `mode: "auto"` (hybrid) through the
//    API, the full-text SQL and the vector SQL alone through `pg`, and GET /health (the hop alone); p50/p99.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { PDFDocument, StandardFonts } from "pdf-lib";
import pg from "pg";
import { extractText, getDocumentProxy } from "unpdf";
import { EMBEDDING_DIMENSIONS, embed, startFakeOpenAi } from "../../test/helpers/fake-openai.mjs";
import { isPortOpen, waitFor } from "../stack/util.mjs";
import { percentile, post, register, startBenchApe } from "./harness.mjs";

const { values } = parseArgs({
  options: {
    pages: { type: "string", default: "200" },
    uploads: { type: "string", default: "3" },
    chunks: { type: "string", default: "20000" },
    searches: { type: "string", default: "200" },
    k: { type: "string", default: "5" },
    "skip-plain": { type: "boolean", default: false },
  },
});
const PAGES = Number(values.pages);
const UPLOADS = Number(values.uploads);
const CHUNKS = Number(values.chunks);
const SEARCHES = Number(values.searches);
const K = Number(values.k);
const POLL_MS = 50;
const INGEST_TIMEOUT_MS = 120_000;
const EMBEDDING_MODEL = "openai/text-embedding-3-small";
/** Seeded corpus: this many documents share the chunks, so the join and the owner filter have rows to do. */
const SEED_DOCUMENTS = 4;
/** What search.ts asks each retriever for: k × CANDIDATES_PER_RESULT. */
const CANDIDATES = K * 4;

// --- Generated prose -------------------------------------------------------------------------------------

/** A seeded PRNG (mulberry32), so every run reads and searches the same text. */
const rng = (seed) => () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const random = rng(20_261_117);
const pick = (list) => list[Math.floor(random() * list.length)];

// Common words (in most chunks, so an OR query with one of them matches thousands) and a long Zipf tail of
// made-up words (each in a handful of chunks, so a query of them is selective).
const COMMON = `
  report system council market water project account quarter budget policy contract review committee member
  service network customer supply record office region season harvest river bridge station engine factory
  school library museum garden village harbour railway letter meeting process figure measure standard method
  result change growth decline increase response request approval schedule delivery payment invoice audit
  survey sample analysis estimate forecast pressure surface storage capacity volume weight balance transfer
  agreement dispute hearing evidence witness statement summary chapter section volume appendix note table
`
  .trim()
  .split(/\s+/);
const FUNCTION_WORDS = "the of and to in for on with by from at as that which was were is are had has this its".split(
  " ",
);
const VERBS = `
  reported noted described required approved reviewed recorded measured estimated delivered proposed rejected
  confirmed extended reduced improved examined compared announced published described suggested
`
  .trim()
  .split(/\s+/);
const SYLLABLES =
  "ka lo mi ner tus va re do shi pan gor el vin ta quo ber sil an dru fe mor ith cal ros un jet bal".split(" ");
const TAIL = Array.from({ length: 2500 }, (_, i) => {
  let word = "";
  let n = i + 1;
  do {
    word += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  } while (n > 0);
  return `${word}${SYLLABLES[(i * 7) % SYLLABLES.length]}`;
});
/** Zipf-ish: the first tail words are fairly common, the last ones rare. */
const tailWord = () => TAIL[Math.min(TAIL.length - 1, Math.floor(TAIL.length ** random()) - 1)];

const sentence = () => {
  const words = [pick(FUNCTION_WORDS), pick(COMMON)];
  const length = 9 + Math.floor(random() * 9);
  while (words.length < length) {
    const roll = random();
    words.push(roll < 0.3 ? pick(FUNCTION_WORDS) : roll < 0.55 ? pick(COMMON) : roll < 0.65 ? pick(VERBS) : tailWord());
  }
  if (random() < 0.2) words.push(String(1800 + Math.floor(random() * 220)));
  const text = words.join(" ");
  return `${text[0].toUpperCase()}${text.slice(1)}.`;
};
const prose = (minChars) => {
  let text = sentence();
  while (text.length < minChars) text += ` ${sentence()}`;
  return text;
};

// Planted passages: words that appear nowhere else, each pair in exactly one chunk, asked for in questions
// that also carry common words (as real questions do).
const RARE = `
  aquifer basilisk cormorant dulcimer ephemeris fjord gossamer halyard isthmus jacquard kestrel lorikeet
  marquetry nautilus obsidian palimpsest quagga rhizome sextant tamarind umbra vellum wainscot xylograph
  yarrow zeppelin astrolabe bergamot cinnabar damask egret filigree gazebo heliotrope indigo juniper
`
  .trim()
  .split(/\s+/);
const PLANTED = Array.from({ length: 20 }, (_, i) => {
  const [a, b] = [RARE[i], RARE[(i + 7) % RARE.length]];
  const year = 1850 + i * 3;
  return {
    terms: `${a} ${b}`,
    sentence: `The ${a} ${b} accord of ${year} set the tariff for the ${pick(COMMON)} and named its ${pick(COMMON)} warden.`,
    question: `What did the ${a} ${b} accord say about the tariff for the ${pick(COMMON)}?`,
  };
});

// The Postgres vector store's query, as src/integrations/vector-store-postgres.ts builds it: the query vector
// normalised and unrolled into the SQL as one dot product, over the namespace's rows of its dimension.
const vectorSql = (vector) => {
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  const query = norm === 0 ? vector : vector.map((x) => x / norm);
  const dot = query.map((x, i) => `v[${i + 1}]*(${x})::real`).join(" + ");
  return `select id, metadata, (${dot}) as score
    from (
      select id, metadata, vector || '{}'::real[] as v
      from vector_entries
      where namespace = $1
        and cardinality(vector) = $2
      offset 0
    ) as candidates
    order by score desc nulls last, id
    limit $3`;
};

// --- Small helpers ---------------------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (samples) => percentile(samples, 50);
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** An id in src/lib/ids.ts's layout (prefix, 10 time characters, 16 random), so the API accepts it. */
const newId = (prefix) => {
  let time = "";
  let rest = Date.now();
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[rest % 32] + time;
    rest = Math.floor(rest / 32);
  }
  const tail = Array.from(randomBytes(16), (byte) => CROCKFORD[byte % 32]).join("");
  return `${prefix}_${time}${tail}`;
};
const describeFailure = async (what, res) => new Error(`${what}: ${res.status} ${await res.text()}`);

/** A 200-page text PDF: a heading and a few paragraphs of generated prose per page, wrapped to the page. */
const makePdf = async (pages) => {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  let characters = 0;
  for (let n = 1; n <= pages; n++) {
    const page = pdf.addPage([612, 792]);
    let y = 740;
    page.drawText(`Section ${n}: the ${pick(COMMON)} ${pick(COMMON)} of ${tailWord()}`, { x: 50, y, size: 14, font });
    y -= 28;
    const paragraphs = 3 + Math.floor(random() * 3);
    for (let p = 0; p < paragraphs && y > 80; p++) {
      const text = prose(350 + Math.floor(random() * 350));
      characters += text.length;
      let line = "";
      for (const word of text.split(" ")) {
        if (line && font.widthOfTextAtSize(`${line} ${word}`, 11) > 512) {
          page.drawText(line, { x: 50, y, size: 11, font });
          y -= 14;
          line = word;
        } else line = line ? `${line} ${word}` : word;
      }
      if (line) page.drawText(line, { x: 50, y, size: 11, font });
      y -= 26;
    }
  }
  return { bytes: await pdf.save(), characters };
};

// --- The run ---------------------------------------------------------------------------------------------

// wrangler.toml's [assets] directory is built (as `npm start` and `npm test` do); wrangler refuses to start without it.
if (!existsSync(new URL("../../public/", import.meta.url))) await import("../build-assets.mjs");
const fake = await startFakeOpenAi();
const embeddingSettings = {
  OPENAI_API_KEY: "sk-bench",
  OPENAI_BASE_URL: `${fake.url}/v1`,
  EMBEDDING_MODEL,
  // Room for the seeded corpus and every upload of the run, whatever the default quota becomes.
  DOCUMENT_QUOTA_BYTES: String(10 * 1024 ** 3),
};
/** @type {Awaited<ReturnType<typeof startBenchApe>> | null} */
let ape = null;
/** @type {pg.Client | null} */
let db = null;
const cleanups = [];
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

const stopApe = async () => {
  if (!ape) return;
  ape.server.stop();
  ape = null;
  await waitFor("wrangler dev to stop", async () => !(await isPortOpen(8796)), 30_000).catch(() => {});
};

/**
 * Watches a document's status straight in Postgres (every 10 ms), for when the consumer took it and when it
 * committed: the API's own polls can wait behind the ingestion, which runs in the same isolate.
 */
const watchStatus = (id, started) => {
  const seen = { claimed: null, committed: null };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await db.query("select status from documents where id = $1", [id]);
      const status = rows[0]?.status;
      const at = performance.now() - started;
      if (status !== "pending" && seen.claimed === null) seen.claimed = at;
      if (status !== "pending" && status !== "processing") {
        if (status === "ready") seen.committed = at;
        return;
      }
      await sleep(10);
    }
  })();
  return {
    seen,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
};

/** Uploads the PDF and polls it to `ready` every 50 ms: the times from the upload's start, in ms. */
const ingestOnce = async (base, auth, bytes, label) => {
  const form = new FormData();
  form.set("file", new File([bytes], `bench-${label}.pdf`, { type: "application/pdf" }));
  const started = performance.now();
  const res = await fetch(`${base}/documents`, { method: "POST", headers: auth, body: form });
  if (res.status !== 202) throw await describeFailure("upload", res);
  const { id } = await res.json();
  const accepted = performance.now() - started;
  const watch = watchStatus(id, started);
  let pickedUp = null;
  let slowestPoll = 0;
  let last = null;
  try {
    while (performance.now() - started < INGEST_TIMEOUT_MS) {
      const asked = performance.now();
      const poll = await fetch(`${base}/documents/${id}`, { headers: auth });
      if (!poll.ok) throw await describeFailure(`GET /documents/${id}`, poll);
      last = await poll.json();
      const at = performance.now() - started;
      slowestPoll = Math.max(slowestPoll, performance.now() - asked);
      if (last.status !== "pending" && pickedUp === null) pickedUp = at;
      if (last.status === "failed") throw new Error(`document ${id} failed: ${JSON.stringify(last)}`);
      if (last.status === "ready") {
        await watch.stop();
        return { id, accepted, pickedUp, ready: at, slowestPoll, doc: last, ...watch.seen };
      }
      await sleep(POLL_MS);
    }
  } finally {
    await watch.stop();
  }
  throw new Error(`document ${id} not ready after ${INGEST_TIMEOUT_MS / 1000} s: ${JSON.stringify(last)}`);
};

/** One fresh user's uploads, measured; then removed through the API (the R2 objects with them). */
const ingestRuns = async (base, bytes, tag) => {
  const user = await register(base);
  const auth = { authorization: `Bearer ${user.access}` };
  const namespace = `user_${user.userId}_documents`;
  // Should the run fail half-way, the rows and vectors still go (by SQL: the Worker may be gone by then).
  cleanups.push(async () => {
    await db.query("delete from documents where user_id = $1", [user.userId]);
    await db.query("delete from vector_entries where namespace = $1", [namespace]);
  });
  const runs = [];
  for (let i = 0; i < UPLOADS; i++) runs.push(await ingestOnce(base, auth, bytes, `${tag}-${i}`));
  const stored = await db.query(
    "select count(*)::int as n, max(array_length(vector, 1))::int as dims from vector_entries where namespace = $1",
    [namespace],
  );
  for (const run of runs) {
    const gone = await fetch(`${base}/documents/${run.id}`, { method: "DELETE", headers: auth });
    if (!gone.ok) throw await describeFailure(`DELETE /documents/${run.id}`, gone);
  }
  return { runs, vectors: stored.rows[0].n, dims: stored.rows[0].dims };
};

const results = { ingest: null, plain: null, unpdf: null, search: null, notes: [] };
const failures = [];
/** Runs one part of the benchmark; a failure is reported at the end and the next part still runs. */
const phase = async (name, fn) => {
  try {
    await fn();
  } catch (error) {
    process.exitCode = 1;
    failures.push(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  }
};
let pdf;
let dims = EMBEDDING_DIMENSIONS;
try {
  pdf = await makePdf(PAGES);

  // The text layer alone, in Node: what ingestion's extraction costs before chunks, embeddings and writes.
  const unpdfMs = [];
  for (let i = 0; i < UPLOADS + 1; i++) {
    const started = performance.now();
    const proxy = await getDocumentProxy(pdf.bytes.slice(), {
      disableFontFace: true,
      useSystemFonts: false,
      verbosity: 0,
    });
    const { text } = await extractText(proxy, { mergePages: false });
    await proxy.loadingTask.destroy();
    if (text.length !== PAGES) throw new Error(`unpdf read ${text.length} pages of ${PAGES}`);
    if (i > 0) unpdfMs.push(performance.now() - started); // the first run warms PDF.js up
  }
  results.unpdf = unpdfMs;

  ape = await startBenchApe(embeddingSettings);
  const { stack } = ape;
  db = new pg.Client({ connectionString: stack.DIRECT_DATABASE_URL });
  await db.connect();

  // 1. Ingest, with embeddings.
  await phase("ingest with EMBEDDING_MODEL", async () => {
    const ingested = await ingestRuns(ape.base, pdf.bytes, "embed");
    results.ingest = ingested.runs;
    results.ingestVectors = ingested.vectors;
    if (ingested.vectors > 0) dims = ingested.dims;
    else results.notes.push(`no vectors were stored for the ingested PDFs: search seeds ${dims}-dimension vectors`);
  });

  // 2. Search over a seeded corpus.
  await phase("search", async () => {
    const reader = await register(ape.base);
    const readerAuth = { authorization: `Bearer ${reader.access}` };
    const readerNamespace = `user_${reader.userId}_documents`;
    const seedStarted = performance.now();
    const docIds = Array.from({ length: SEED_DOCUMENTS }, () => newId("doc"));
    cleanups.push(async () => {
      await db.query("delete from documents where id = any($1)", [docIds]);
      await db.query("delete from vector_entries where namespace = $1", [readerNamespace]);
    });
    const perDoc = Math.ceil(CHUNKS / SEED_DOCUMENTS);
    for (const [d, id] of docIds.entries()) {
      await db.query(
        `insert into documents (id, user_id, filename, kind, media_type, size_bytes, sha256, object_key, status,
         attempt, pages, characters, chunk_count, ocr_pages, embedding_model, ready_at)
       values ($1, $2, $3, 'text', 'text/plain', $4, $5, $6, 'ready', 1, $7, $8, $9, 0, $10, now())`,
        [
          id,
          reader.userId,
          `bench-corpus-${d + 1}.txt`,
          perDoc * 600,
          randomBytes(32).toString("hex"),
          `users/${reader.userId}/documents/${id}`,
          Math.ceil(perDoc / 3),
          perDoc * 600,
          perDoc,
          EMBEDDING_MODEL,
        ],
      );
    }
    // Planted passages go to spread-out chunks.
    const plantedAt = new Map(
      PLANTED.map((planted, i) => [Math.floor(((i + 0.5) * CHUNKS) / PLANTED.length), planted]),
    );
    const BATCH = 1000;
    for (let start = 0; start < CHUNKS; start += BATCH) {
      const rows = [];
      for (let n = start; n < Math.min(CHUNKS, start + BATCH); n++) {
        const documentId = docIds[Math.floor(n / perDoc)];
        const ordinal = n % perDoc;
        const planted = plantedAt.get(n);
        const content = planted ? `${prose(250)} ${planted.sentence} ${prose(250)}` : prose(560);
        if (planted) planted.chunkId = `${documentId}#${ordinal}`;
        const charStart = (ordinal % 3) * 700;
        rows.push({
          id: `${documentId}#${ordinal}`,
          documentId,
          ordinal,
          page: Math.floor(ordinal / 3) + 1,
          charStart,
          content,
        });
      }
      await db.query(
        `insert into document_chunks (id, document_id, user_id, ordinal, page, char_start, char_end, heading, content)
       select id, document_id, $1, ordinal, page, char_start, char_start + length(content), null, content
       from unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::text[])
         as t(id, document_id, ordinal, page, char_start, content)`,
        [
          reader.userId,
          rows.map((r) => r.id),
          rows.map((r) => r.documentId),
          rows.map((r) => r.ordinal),
          rows.map((r) => r.page),
          rows.map((r) => r.charStart),
          rows.map((r) => r.content),
        ],
      );
      await db.query(
        `insert into vector_entries (namespace, id, vector, metadata)
       select $1, id, vector::real[], metadata::jsonb from unnest($2::text[], $3::text[], $4::text[]) as t(id, vector, metadata)`,
        [
          readerNamespace,
          rows.map((r) => r.id),
          // Heading-less chunks are embedded as their content alone (ingest.ts), so seed exactly that.
          rows.map((r) => `{${embed(r.content, dims).join(",")}}`),
          rows.map((r) => JSON.stringify({ document_id: r.documentId, page: r.page, ordinal: r.ordinal })),
        ],
      );
    }
    await db.query("analyze document_chunks");
    await db.query("analyze vector_entries");
    const seedMs = performance.now() - seedStarted;

    // The queries: planted questions (rare terms among common words), rare tail terms alone (selective), and
    // common terms alone (thousands of matches to rank).
    const queries = Array.from({ length: SEARCHES }, (_, i) => {
      const planted = PLANTED[Math.floor(i / 4) % PLANTED.length];
      switch (i % 4) {
        case 0:
        case 1:
          return { kind: "planted", text: planted.question, expect: planted.chunkId };
        case 2:
          return { kind: "rare", text: `${TAIL[TAIL.length - 1 - i]} ${TAIL[TAIL.length - 200 - i]}` };
        default:
          return { kind: "common", text: `${COMMON[i % COMMON.length]} ${COMMON[(i * 5 + 3) % COMMON.length]} review` };
      }
    });

    // The SQL search.ts runs, as drizzle renders it (full text: the OR'd tsquery over ready documents, ranked by
    // how many of the query's words a passage holds, then by ts_rank_cd). Keep it in step with search.ts.
    const textSql = `select "document_chunks"."id", "document_chunks"."document_id", "documents"."filename",
      "document_chunks"."page", "document_chunks"."char_start", "document_chunks"."char_end",
      "document_chunks"."heading", "document_chunks"."content"
    from "document_chunks" inner join "documents" on "documents"."id" = "document_chunks"."document_id"
    where ("document_chunks"."user_id" = $1 and "documents"."status" = $2
      and "document_chunks"."search" @@ replace(plainto_tsquery('english', $3)::text, '&', '|')::tsquery)
    order by (select count(*) from unnest(tsvector_to_array(to_tsvector('english', $4))) as q(lexeme)
        where "document_chunks"."search" @@ quote_literal(q.lexeme)::tsquery) desc,
      ts_rank_cd("document_chunks"."search", replace(plainto_tsquery('english', $5)::text, '&', '|')::tsquery, 1) desc,
      "document_chunks"."id"
    limit $6`;
    const sqlText = (query) => db.query(textSql, [reader.userId, "ready", query, query, query, CANDIDATES]);
    const sqlVector = (query) => db.query(vectorSql(embed(query, dims)), [readerNamespace, dims, CANDIDATES]);

    const timed = async (fn) => {
      const started = performance.now();
      const value = await fn();
      return { ms: performance.now() - started, value };
    };
    const apiSearch = async (query, mode) => {
      const res = await post(`${ape.base}/documents/search`, { query, k: K, mode }, readerAuth);
      const body = await res.text();
      if (res.status !== 200) throw new Error(`POST /documents/search (${mode}): ${res.status} ${body}`);
      return JSON.parse(body);
    };
    const health = async () => {
      const res = await fetch(`${ape.base}/health`);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`GET /health: ${res.status}`);
    };

    const samples = { text: [], auto: [], sqlText: [], sqlVector: [], health: [] };
    // A failing call is counted (with its first answer kept for the report) and the run goes on.
    const errors = {};
    const found = { text: 0, auto: 0, planted: 0 };
    const modes = new Set();
    let matchedByVector = 0;
    for (let i = -10; i < queries.length; i++) {
      const query = queries[(i + queries.length) % queries.length];
      // Rotate the order within a round, so no one kind always follows another.
      const steps = [
        ["text", () => apiSearch(query.text, "text")],
        ["auto", () => apiSearch(query.text, "auto")],
        ["sqlText", () => sqlText(query.text)],
        ["sqlVector", () => sqlVector(query.text)],
        ["health", health],
      ];
      const offset = ((i % steps.length) + steps.length) % steps.length;
      for (const [name, fn] of [...steps.slice(offset), ...steps.slice(0, offset)]) {
        let outcome;
        try {
          outcome = await timed(fn);
        } catch (error) {
          errors[name] ??= { count: 0, first: error instanceof Error ? error.message : String(error) };
          errors[name].count++;
          continue;
        }
        const { ms, value } = outcome;
        if (i < 0) continue; // warm-up
        samples[name].push(ms);
        if (name === "auto") {
          modes.add(value.mode);
          if (value.results.some((hit) => hit.matched_by.includes("vector"))) matchedByVector++;
        }
        if ((name === "text" || name === "auto") && query.expect) {
          if (value.results.some((hit) => hit.chunk_id === query.expect)) found[name]++;
        }
      }
      if (i >= 0 && query.expect) found.planted++;
    }
    results.search = { samples, found, modes: [...modes], matchedByVector, seedMs, errors };
  });

  // 1b. Ingest without embeddings, on a second `wrangler dev` (one instance cannot change its settings).
  if (!values["skip-plain"]) {
    await phase("ingest without EMBEDDING_MODEL", async () => {
      await stopApe();
      ape = await startBenchApe({ DOCUMENT_QUOTA_BYTES: embeddingSettings.DOCUMENT_QUOTA_BYTES });
      results.plain = (await ingestRuns(ape.base, pdf.bytes, "plain")).runs;
    });
  }
} catch (error) {
  process.exitCode = 1;
  failures.push(`setup: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await db?.end().catch(() => {});
  await stopApe();
  await fake.close();
}

// --- The report ------------------------------------------------------------------------------------------

const s = (ms) => `${(ms / 1000).toFixed(2)} s`.padStart(10);
const ms = (value) => `${value.toFixed(1)} ms`.padStart(10);
const rate = (pages, msValue) => `${(pages / (msValue / 1000)).toFixed(1)} pages/s`.padStart(16);
const W = 48;

if (pdf) {
  console.log(
    `\ningest: a generated ${PAGES}-page text PDF (${(pdf.bytes.byteLength / 1024).toFixed(0)} KiB, ` +
      `${pdf.characters.toLocaleString("en")} characters of prose), median of ${UPLOADS}`,
  );
  console.log(
    `${"".padEnd(W)}${"median".padStart(10)}${"min".padStart(10)}${"max".padStart(10)}${"rate (median)".padStart(16)}`,
  );
  const line = (label, samples, pages = PAGES) =>
    console.log(
      `${label.padEnd(W)}${s(median(samples))}${s(Math.min(...samples))}${s(Math.max(...samples))}${pages ? rate(pages, median(samples)) : ""}`,
    );
  if (results.unpdf) line("  unpdf extractText in Node (baseline)", results.unpdf);
  const ingestBlock = (title, runs) => {
    console.log(title);
    const claimed = (r) => r.claimed ?? r.pickedUp ?? r.ready;
    const committed = (r) => r.committed ?? r.ready;
    line(
      "    upload → ready (end to end, the API's poll)",
      runs.map((r) => r.ready),
    );
    line("    upload → picked up (leaves pending)", runs.map(claimed), 0);
    line(
      "    picked up → ready (processing)",
      runs.map((r) => committed(r) - claimed(r)),
    );
    const doc = runs[0].doc;
    console.log(
      `    ${doc.pages} pages, ${doc.characters?.toLocaleString("en")} characters, ${doc.chunks} chunks, ` +
        `embedding_model ${doc.embedding_model ?? "none"}; upload answered 202 in ` +
        `${median(runs.map((r) => r.accepted)).toFixed(0)} ms, slowest status poll ${median(runs.map((r) => r.slowestPoll)).toFixed(0)} ms (medians)`,
    );
  };
  if (results.ingest) {
    ingestBlock(
      `  through APE with EMBEDDING_MODEL=${EMBEDDING_MODEL} (embeddings from the local fake, ${dims} dims, ${results.ingestVectors} vectors)`,
      results.ingest,
    );
  }
  if (results.plain) ingestBlock("  through APE without EMBEDDING_MODEL (full-text only)", results.plain);
  console.log(
    "  picked up: the local queue delivers a batch when it is full (5) or its batch timeout passes, so a lone\n" +
      "  upload waits that timeout first. Times are from the upload's start; the API polled every " +
      `${POLL_MS} ms,\n  picked up and processing are read straight from Postgres every 10 ms (a status poll through the API\n` +
      "  waits while the same isolate ingests, so it would see the transitions late).",
  );
}

if (results.search) {
  const { samples, found, modes, matchedByVector, seedMs } = results.search;
  const n = SEARCHES;
  console.log(
    `\nsearch over ${CHUNKS.toLocaleString("en")} chunks (~600 characters, ${SEED_DOCUMENTS} ready documents, seeded in ${(seedMs / 1000).toFixed(1)} s), ` +
      `k=${K}, ${n} searches of each, interleaved`,
  );
  console.log(`${"".padEnd(W)}${"p50".padStart(10)}${"p99".padStart(10)}`);
  const row = (label, list, extra = "") =>
    console.log(
      list.length > 0
        ? `${label.padEnd(W)}${ms(percentile(list, 50))}${ms(percentile(list, 99))}${extra}`
        : `${label.padEnd(W)}${"-".padStart(10)}${"-".padStart(10)}   no successful call`,
    );
  row("  GET /api/v1/health (the hop alone)", samples.health);
  row("  full-text SQL alone (pg, direct)", samples.sqlText, `   limit ${CANDIDATES}`);
  row(`  vector SQL alone (pg, direct, ${dims} dims)`, samples.sqlVector, `   top ${CANDIDATES}`);
  row('  POST /documents/search mode "text"', samples.text);
  row('  POST /documents/search mode "auto"', samples.auto, `   answered mode: ${modes.join(", ")}`);
  console.log(
    `  planted passage in the top ${K}: text ${found.text}/${found.planted}, auto ${found.auto}/${found.planted}; ` +
      `auto results with a vector match: ${matchedByVector}/${n}`,
  );
  console.log(
    "  queries: half planted questions (two unique words among common ones), a quarter rare tail words,\n" +
      "  a quarter common words only (thousands of matches to rank). The API reaches Postgres through the\n" +
      "  stack's WebSocket bridge (DATABASE_URL); the SQL baselines use one direct connection.",
  );
}
for (const note of results.notes) console.log(`  note: ${note}`);
for (const [name, { count, first }] of Object.entries(results.search?.errors ?? {})) {
  process.exitCode = 1;
  console.log(`  ${count} calls of ${name} failed; the first: ${first}`);
}
for (const failure of failures) console.log(`\nFAILED ${failure}`);

const cpu = cpus();
console.log(
  `\nmachine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown"}), node ${process.version}, ${process.platform}/${process.arch}`,
);
console.log(
  `settings: wrangler dev on :8796 (test stack), LOG_LEVEL=error, rate limits lifted; EMBEDDING_MODEL=${EMBEDDING_MODEL} ` +
    `via the OpenAI fake (${dims} dims); pages=${PAGES} uploads=${UPLOADS} chunks=${CHUNKS} searches=${SEARCHES} k=${K}` +
    `${values["skip-plain"] ? " (--skip-plain)" : ""}`,
);
process.exit(process.exitCode ?? 0);
