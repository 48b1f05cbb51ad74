import type { ExtractionCheckpoint, ExtractionJob } from "../../db/schema/index.js";
import { userPrefix } from "../../integrations/files.js";
import type { FirecrawlClient, FirecrawlDocument } from "../../integrations/firecrawl.js";
import type { ServiceContext } from "../context.js";
import { JobError } from "../jobs/outcome.js";
import type { SliceBudget } from "../jobs/slice.js";
import type { OnPages, SourceContent, SourcePage } from "./sources.js";
import { tablesFromHtml } from "./tabular.js";

/** How long to wait before reading a crawl still scraping again, when the last read brought nothing new. */
const CRAWL_POLL_MS = 2_000;
/** How long a crawl may take from its start before the job gives up on it (the queue retries it). */
const CRAWL_DEADLINE_MS = 30 * 60 * 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Where a job's crawled pages wait in R2 between its slices, one JSON object a page: apart from any run's
 * rows, so a retry after a failure goes on with the pages already read. Deleted once the job completes.
 */
export const crawlPagesPrefix = (job: Pick<ExtractionJob, "userId" | "id">) =>
  `${userPrefix(job.userId)}extraction/${job.id}/crawl/`;

const pageKey = (prefix: string, index: number) => `${prefix}${String(index).padStart(6, "0")}.json`;

/** A Firecrawl document as a source page, its tables parsed from its HTML once, as it arrives. */
export const pageOfFirecrawl = (doc: FirecrawlDocument, fallbackUrl: string): SourcePage => ({
  source: doc.metadata.sourceURL ?? doc.metadata.url ?? fallbackUrl,
  page: null,
  text: doc.markdown ?? "",
  tables: doc.html ? tablesFromHtml(doc.html) : [],
});

/**
 * Reads a Firecrawl crawl for one slice: starts it (once), then reads its results a page at a time from the
 * checkpoint's `next`, so no document is read twice however many slices the crawl takes; each page goes to
 * R2 as it arrives and only the results page being read is in memory. Pages the site answered with 4xx or
 * 5xx are listed as skipped with their status. Returns the checkpoint: `done` once the crawl is read to its
 * end, else where the next slice goes on.
 * @example
 * const checkpoint = await readCrawlSlice({ ctx, job, firecrawl, slice, onPages });
 */
export const readCrawlSlice = async ({
  ctx,
  job,
  firecrawl,
  slice,
  onPages,
}: {
  ctx: ServiceContext;
  job: ExtractionJob;
  firecrawl: FirecrawlClient;
  slice: SliceBudget;
  onPages: OnPages;
}): Promise<ExtractionCheckpoint> => {
  const url = job.sourceUrl ?? "";
  let checkpoint = job.checkpoint;
  if (!checkpoint) {
    const bounds = job.crawlBounds;
    const started = await firecrawl.startCrawl(url, {
      limit: bounds?.max_pages ?? 10,
      maxDiscoveryDepth: bounds?.max_depth ?? 2,
      ...(bounds?.include_paths?.length ? { includePaths: bounds.include_paths } : {}),
      ...(bounds?.exclude_paths?.length ? { excludePaths: bounds.exclude_paths } : {}),
      allowExternalLinks: !(bounds?.same_site_only ?? true),
      scrapeOptions: { formats: ["markdown", "html"], onlyMainContent: true },
    });
    slice.spend(1);
    checkpoint = {
      crawl_id: started.id,
      next: null,
      pages_prefix: crawlPagesPrefix(job),
      pages: 0,
      skipped: [],
      done: false,
      started_at: new Date().toISOString(),
    };
  }
  const state = checkpoint;
  for (let reads = 0; !state.done; reads++) {
    // One results page at least per slice, so every slice moves the crawl on.
    if (reads > 0 && slice.over()) return state;
    if (Date.now() - Date.parse(state.started_at) > CRAWL_DEADLINE_MS) {
      throw new JobError("CRAWL_TIMEOUT", "The crawl did not finish within 30 minutes; retry the job.", true);
    }
    const answer = await firecrawl.crawlPage(state.crawl_id, state.next);
    slice.spend(1 + answer.data.length);
    if (answer.status === "failed" || answer.status === "cancelled") {
      throw new JobError("CRAWL_FAILED", `Firecrawl reported the crawl ${answer.status}; retry the job.`, true);
    }
    for (const doc of answer.data) {
      const status = doc.metadata.statusCode;
      if (status >= 400) {
        state.skipped.push({ url: doc.metadata.sourceURL, reason: `HTTP ${status}`, status });
        continue;
      }
      await ctx.env.FILES.put(pageKey(state.pages_prefix, state.pages), JSON.stringify(pageOfFirecrawl(doc, url)), {
        httpMetadata: { contentType: "application/json" },
      });
      state.pages += 1;
    }
    await onPages(state.pages, answer.total);
    if (answer.status === "completed" && (!answer.next || answer.data.length === 0)) state.done = true;
    else if (answer.data.length > 0 && answer.next) state.next = answer.next;
    else {
      // Nothing new yet: the crawl is still scraping. Read the same place again in a moment.
      state.next = answer.next ?? state.next;
      await sleep(CRAWL_POLL_MS);
    }
  }
  return state;
};

/** The pages a finished crawl left in R2, in the order they arrived. */
export const crawledPages = async (ctx: ServiceContext, checkpoint: ExtractionCheckpoint): Promise<SourceContent> => {
  const pages: SourcePage[] = [];
  for (let index = 0; index < checkpoint.pages; index++) {
    const object = await ctx.env.FILES.get(pageKey(checkpoint.pages_prefix, index));
    if (!object) throw new JobError("CRAWL_PAGES_MISSING", "A crawled page is gone from storage; retry the job.", true);
    pages.push(JSON.parse(await object.text()) as SourcePage);
  }
  return { pages, skipped: checkpoint.skipped, truncated: false };
};
