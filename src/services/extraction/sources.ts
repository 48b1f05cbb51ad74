import { and, asc, eq } from "drizzle-orm";
import { documentPages, documents, type ExtractionJob } from "../../db/schema/index.js";
import { firecrawlFromEnv } from "../../integrations/firecrawl.js";
import { safeFetchFromEnv } from "../../integrations/safe-fetch.js";
import { createWebReader, type WebPage, WebReadError } from "../../integrations/web-reader.js";
import type { ServiceContext } from "../context.js";
import { DocumentError } from "../documents/extract/errors.js";
import { parseCsv, type Table } from "../documents/extract/tabular.js";
import { decodeText } from "../documents/extract/text.js";
import { JobError } from "../jobs/outcome.js";
import { pageOfFirecrawl } from "./crawl-firecrawl.js";
import { tablesFromHtml } from "./tabular.js";

/** One page of a job's source: where it came from, its text (Markdown), and the tables code can read. */
export type SourcePage = { source: string; page: number | null; text: string; tables: Table[] };

/** What a source came to: its pages, the pages skipped and why, and whether a crawl stopped at its bound. */
export type SourceContent = {
  pages: SourcePage[];
  skipped: Array<{ url: string; reason: string; status?: number }>;
  truncated: boolean;
};

/** Called as pages arrive, so the job's progress can say how far it is. */
export type OnPages = (fetched: number, total: number | null) => Promise<void>;

const fromWebPage = (page: WebPage): SourcePage => ({
  source: page.url,
  page: null,
  text: page.markdown,
  tables: page.html ? tablesFromHtml(page.html) : [],
});

/** A page that answered an error status: the job's one source is not there, and says which status. */
const unavailable = (url: string, status: number) =>
  new JobError(
    "SOURCE_UNAVAILABLE",
    `${url} answered HTTP ${status}; nothing was extracted.`,
    status === 429 || status >= 500,
  );

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
    if ("skipped" in page) {
      skipped.push({ url: page.url, reason: page.reason, ...(page.status ? { status: page.status } : {}) });
    } else pages.push(fromWebPage(page));
    await onPages(pages.length, bounds?.max_pages ?? null);
  }
};

/**
 * Reads a job's source in one go: a document's pages, one web page (through Firecrawl when it is configured),
 * or a crawl with APE's own safe reader (a Firecrawl crawl is read across slices by crawl-firecrawl.ts). A
 * single page that answers 4xx or 5xx fails the job with `SOURCE_UNAVAILABLE` naming the status. Every URL
 * goes through the safe-fetch checks (Firecrawl fetches from its side, after the job's URL was checked at
 * creation).
 */
export const readSource = async (ctx: ServiceContext, job: ExtractionJob, onPages: OnPages): Promise<SourceContent> => {
  if (job.sourceType === "document") return readDocument(ctx, job);
  const url = job.sourceUrl ?? "";
  const firecrawl = firecrawlFromEnv(ctx.env);
  if (job.sourceType === "web_single") {
    if (firecrawl) {
      const doc = await firecrawl.scrape(url, { formats: ["markdown", "html"], onlyMainContent: true });
      if (doc.metadata.statusCode >= 400) throw unavailable(url, doc.metadata.statusCode);
      await onPages(1, 1);
      return { pages: [pageOfFirecrawl(doc, url)], skipped: [], truncated: false };
    }
    const page = await createWebReader({ safeFetch: safeFetchFromEnv(ctx.env) })
      .read(url)
      .catch((error: unknown) => {
        if (error instanceof WebReadError && error.reason === "status" && error.status) {
          throw unavailable(url, error.status);
        }
        throw error;
      });
    await onPages(1, 1);
    return { pages: [fromWebPage(page)], skipped: [], truncated: false };
  }
  return crawlBuiltIn(ctx, job, onPages);
};
