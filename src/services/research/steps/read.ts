import type { ResearchCandidate, SourceRead } from "../../../db/schema/index.js";
import { FirecrawlFailure } from "../../../integrations/firecrawl.js";
import { safeFetchFromEnv } from "../../../integrations/safe-fetch.js";
import { createWebReader } from "../../../integrations/web-reader.js";
import { readDocumentPage } from "../document-sources.js";
import type { RunContext } from "../run-context.js";
import { indexSource } from "../source-index.js";

/** Sources read at once. */
const READ_CONCURRENCY = 3;
/** Firecrawl failures about the account, not the page: the whole run waits or fails, no source is skipped. */
const ACCOUNT_FAILURES = new Set(["RATE_LIMITED", "PAYMENT_REQUIRED", "UNAUTHORIZED"]);

/** A web page's text: scraped by Firecrawl when configured (or, failing that, fetched directly), else fetched. */
const readWebPage = async (
  run: RunContext,
  candidate: ResearchCandidate,
): Promise<{ text: string; title: string } | { skipped: string }> => {
  const { ctx } = run;
  let reason = "";
  const firecrawl = run.firecrawl();
  if (firecrawl) {
    try {
      run.slice.spend(1);
      const page = await firecrawl.scrape(candidate.url, { formats: ["markdown"], onlyMainContent: true });
      run.usage.scrapes += 1;
      if (page.metadata.statusCode >= 400) return { skipped: `HTTP ${page.metadata.statusCode}` };
      return { text: page.markdown ?? "", title: page.metadata.title || candidate.title };
    } catch (error) {
      if (error instanceof FirecrawlFailure && ACCOUNT_FAILURES.has(error.code)) throw error;
      reason = `Firecrawl could not read it (${error instanceof FirecrawlFailure ? error.code : "error"}: ${error instanceof Error ? error.message : String(error)}); `;
    }
  }
  // The safe fetcher (SSRF-checked on every hop) reads it directly: without Firecrawl, or when Firecrawl failed.
  try {
    run.slice.spend(3);
    const page = await createWebReader({ safeFetch: safeFetchFromEnv(ctx.env) }).read(candidate.url);
    return { text: page.markdown, title: page.title || candidate.title };
  } catch (error) {
    return {
      skipped: `${reason}fetching it ${reason ? "directly failed too" : "failed"} (${error instanceof Error ? error.message : String(error)})`,
    };
  }
};

/**
 * One source, stored in R2 and indexed: a web page as {@link readWebPage} reads it, or a page of the owner's
 * documents as stored (the text its citations are checked against).
 */
const readOne = async (run: RunContext, candidate: ResearchCandidate, index: number): Promise<SourceRead> => {
  const { ctx, session } = run;
  let text: string;
  let title: string;
  if (candidate.url.startsWith("document:")) {
    run.slice.spend(1);
    const page = await readDocumentPage(ctx, { userId: session.userId, url: candidate.url });
    if (!page) return { status: "skipped", reason: "the document was deleted or is no longer ready" };
    text = page.text;
    title = page.title;
  } else {
    const page = await readWebPage(run, candidate);
    if ("skipped" in page) return { status: "skipped", reason: page.skipped };
    text = page.text;
    title = page.title;
  }
  if (text.trim().length < 40) return { status: "skipped", reason: "the page has no readable text" };
  const objectKey = `${run.prefix}sources/${index}.md`;
  run.slice.spend(3);
  await ctx.env.FILES.put(objectKey, text, {
    httpMetadata: { contentType: "text/markdown; charset=utf-8" },
    customMetadata: { userId: session.userId, sessionId: session.id, url: candidate.url },
  });
  run.texts.set(candidate.url, text);
  const chunks = await indexSource(ctx, { sessionId: session.id, sourceIndex: index, url: candidate.url, text });
  return {
    status: "read",
    title: title || candidate.url,
    accessed_at: new Date().toISOString(),
    object_key: objectKey,
    chars: text.length,
    chunks,
  };
};

/**
 * Step 3: reads the candidates not read yet, a few at once, each checkpointed as it ends. Stops taking new
 * ones when the session runs out of time or the slice is spent; says whether every candidate was read.
 */
export const readStep = async (run: RunContext, candidates: ResearchCandidate[]) => {
  run.state.reads ??= {};
  const reads = run.state.reads;
  run.countReads();
  const waiting = candidates
    .map((candidate, index) => ({ candidate, index }))
    .filter(({ candidate }) => !reads[candidate.url]);
  if (waiting.length === 0) return true;
  await run.stage(
    "reading",
    20 + Math.round((40 * (candidates.length - waiting.length)) / Math.max(1, candidates.length)),
  );
  let next = 0;
  let readHere = 0;
  const worker = async () => {
    while (next < waiting.length) {
      // One source at least per slice, so every slice moves the session on.
      if (readHere > 0 && run.slice.over()) return;
      const item = waiting[next];
      next += 1;
      if (!item) return;
      // Reading costs no tokens, but time: a session out of time stops reading and writes what it has.
      if (run.stopIfOver("while reading sources")) return;
      readHere += 1;
      const outcome = await readOne(run, item.candidate, item.index);
      reads[item.candidate.url] = outcome;
      run.countReads();
      run.progress.percent = 20 + Math.round((40 * Object.keys(reads).length) / candidates.length);
      await run.save();
      if (outcome.status === "read") await run.event("source_read", { url: item.candidate.url, title: outcome.title });
      else await run.event("source_skipped", { url: item.candidate.url, reason: outcome.reason });
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, waiting.length) }, worker));
  return Boolean(run.state.stopped_early) || candidates.every((candidate) => reads[candidate.url]);
};
