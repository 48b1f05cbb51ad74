import { and, asc, eq } from "drizzle-orm";
import { documentPages, documents, type ExtractionJob } from "../../db/schema/index.js";
import { type FirecrawlDocument, firecrawlFromEnv } from "../../integrations/firecrawl.js";
import { safeFetchFromEnv } from "../../integrations/safe-fetch.js";
import { createWebReader, type WebPage } from "../../integrations/web-reader.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";
import { DocumentError } from "../documents/extract/errors.js";
import { parseCsv, type Table } from "../documents/extract/tabular.js";
import { decodeText } from "../documents/extract/text.js";
import { tablesFromHtml } from "./tabular.js";

/** One page of a job's source: where it came from, its text (Markdown), and the tables code can read. */
export type SourcePage = { source: string; page: number | null; text: string; tables: Table[] };

/** What a source came to: its pages, the pages skipped and why, and whether a crawl stopped at its bound. */
export type SourceContent = {
  pages: SourcePage[];
  skipped: Array<{ url: string; reason: string }>;
  truncated: boolean;
};

/** Called as pages arrive, so the job's progress can say how far it is. */
export type OnPages = (fetched: number, total: number | null) => Promise<void>;

/** How long a Firecrawl crawl is polled, and how often, before the run gives up (the queue retries it). */
const CRAWL_POLL_MS = 2_000;
const CRAWL_DEADLINE_MS = 10 * 60 * 1000;

const fromWebPage = (page: WebPage): SourcePage => ({
  source: page.url,
  page: null,
  text: page.markdown,
  tables: page.html ? tablesFromHtml(page.html) : [],
});

const fromFirecrawl = (doc: FirecrawlDocument, fallbackUrl: string): SourcePage => ({
  source: doc.metadata.sourceURL ?? doc.metadata.url ?? fallbackUrl,
  page: null,
  text: doc.markdown ?? "",
  tables: doc.html ? tablesFromHtml(doc.html) : [],
});

/** A document source: a ready document's pages; a CSV, XLSX or HTML file's tables read from the original. */
const readDocument = async (ctx: ServiceContext, job: ExtractionJob): Promise<SourceContent> => {
  const [doc] = await ctx.db
    .select()
    .from(documents)
    .where(and(eq(documents.id, job.sourceDocumentId ?? ""), eq(documents.userId, job.userId)));
  if (!doc) throw new DocumentError("DOCUMENT_NOT_FOUND", "The job's document was deleted.", false);
  if (doc.status === "failed") {
    throw new DocumentError(
      "DOCUMENT_FAILED",
      `The document could not be read: ${doc.error?.message ?? "unknown"}`,
      false,
    );
  }
  if (doc.status !== "ready") throw new DocumentError("DOCUMENT_NOT_READY", "The document is still being read.", true);
  const rows = await ctx.db
    .select()
    .from(documentPages)
    .where(eq(documentPages.documentId, doc.id))
    .orderBy(asc(documentPages.page));
  const tablesOf = async (): Promise<Table[][]> => {
    if (doc.kind !== "csv" && doc.kind !== "xlsx" && doc.kind !== "html") return rows.map(() => []);
    const object = await ctx.env.FILES.get(doc.objectKey);
    if (!object) throw new DocumentError("FILE_MISSING", "The document's stored file is gone.", false);
    const bytes = new Uint8Array(await object.arrayBuffer());
    if (doc.kind === "csv") return [[parseCsv(decodeText(bytes))]];
    if (doc.kind === "html") return [tablesFromHtml(decodeText(bytes))];
    const { readWorkbook } = await import("../documents/extract/workbook.js");
    return readWorkbook(bytes).map((sheet) => [sheet]);
  };
  const tables = await tablesOf();
  return {
    pages: rows.map((row, index) => ({ source: doc.id, page: row.page, text: row.text, tables: tables[index] ?? [] })),
    skipped: [],
    truncated: false,
  };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A crawl through Firecrawl: started, polled until done, every result page followed. */
const crawlWithFirecrawl = async (
  firecrawl: NonNullable<ReturnType<typeof firecrawlFromEnv>>,
  job: ExtractionJob,
  onPages: OnPages,
): Promise<SourceContent> => {
  const url = job.sourceUrl ?? "";
  const bounds = job.crawlBounds;
  const started = await firecrawl.startCrawl(url, {
    limit: bounds?.max_pages ?? 10,
    maxDiscoveryDepth: bounds?.max_depth ?? 2,
    ...(bounds?.include_paths?.length ? { includePaths: bounds.include_paths } : {}),
    ...(bounds?.exclude_paths?.length ? { excludePaths: bounds.exclude_paths } : {}),
    allowExternalLinks: !(bounds?.same_site_only ?? true),
    scrapeOptions: { formats: ["markdown", "html"], onlyMainContent: true },
  });
  const deadline = Date.now() + CRAWL_DEADLINE_MS;
  for (;;) {
    const status = await firecrawl.crawlStatus(started.id);
    await onPages(status.completed, status.total);
    if (status.status === "completed") {
      return { pages: status.data.map((doc) => fromFirecrawl(doc, url)), skipped: [], truncated: false };
    }
    if (status.status === "failed") throw new ApiError("NOT_READY", "Firecrawl reported the crawl failed.");
    if (Date.now() > deadline) throw new ApiError("NOT_READY", "The crawl did not finish in time; it is retried.");
    await sleep(CRAWL_POLL_MS);
  }
};

/** A crawl with APE's own reader: robots.txt, a per-host pace, breadth-first within the bounds, to the end. */
const crawlBuiltIn = async (ctx: ServiceContext, job: ExtractionJob, onPages: OnPages): Promise<SourceContent> => {
  const reader = createWebReader({ safeFetch: safeFetchFromEnv(ctx.env) });
  const bounds = job.crawlBounds;
  const pages: SourcePage[] = [];
  const skipped: SourceContent["skipped"] = [];
  const crawl = reader.crawl(job.sourceUrl ?? "", {
    maxPages: bounds?.max_pages ?? 10,
    maxDepth: bounds?.max_depth ?? 2,
    ...(bounds?.include_paths?.length ? { includePaths: bounds.include_paths } : {}),
    ...(bounds?.exclude_paths?.length ? { excludePaths: bounds.exclude_paths } : {}),
    sameSiteOnly: bounds?.same_site_only ?? true,
  });
  for (;;) {
    const next = await crawl.next();
    if (next.done) {
      return { pages, skipped, truncated: Boolean(next.value?.truncated) };
    }
    const page = next.value;
    if ("skipped" in page) skipped.push({ url: page.url, reason: page.reason });
    else pages.push(fromWebPage(page));
    await onPages(pages.length, bounds?.max_pages ?? null);
  }
};

/**
 * Reads a job's source: a document's pages, one web page, or a crawl, through Firecrawl when it is configured
 * and APE's own safe reader otherwise. Every URL goes through the safe-fetch checks (Firecrawl fetches from
 * its side, after the job's URL was checked at creation).
 */
export const readSource = async (ctx: ServiceContext, job: ExtractionJob, onPages: OnPages): Promise<SourceContent> => {
  if (job.sourceType === "document") return readDocument(ctx, job);
  const url = job.sourceUrl ?? "";
  const firecrawl = firecrawlFromEnv(ctx.env);
  if (job.sourceType === "web_single") {
    if (firecrawl) {
      const doc = await firecrawl.scrape(url, { formats: ["markdown", "html"], onlyMainContent: true });
      await onPages(1, 1);
      return { pages: [fromFirecrawl(doc, url)], skipped: [], truncated: false };
    }
    const page = await createWebReader({ safeFetch: safeFetchFromEnv(ctx.env) }).read(url);
    await onPages(1, 1);
    return { pages: [fromWebPage(page)], skipped: [], truncated: false };
  }
  return firecrawl ? crawlWithFirecrawl(firecrawl, job, onPages) : crawlBuiltIn(ctx, job, onPages);
};
