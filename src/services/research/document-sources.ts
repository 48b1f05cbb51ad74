import { and, eq } from "drizzle-orm";
import { documentPages, documents } from "../../db/schema/index.js";
import type { ServiceContext } from "../context.js";
import { findPassages } from "../documents/search.js";
import type { WebHit } from "./web-search.js";

/**
 * A page of one of the owner's documents, as research names it wherever a web source has its URL:
 * `document:{id}#page={n}`. The pipeline reads, indexes, ranks and cites it as it does a web page.
 * @example
 * documentLocator("doc_01JD…", 3); // "document:doc_01JD…#page=3"
 */
export const documentLocator = (documentId: string, page: number) => `document:${documentId}#page=${page}`;

const LOCATOR = /^document:(doc_[0-9A-Za-z]+)#page=(\d{1,6})$/;

/** The document id and page a locator names, or null for a web URL. */
export const parseDocumentLocator = (url: string) => {
  const match = LOCATOR.exec(url);
  return match?.[1] && match[2] ? { documentId: match[1], page: Number(match[2]) } : null;
};

/**
 * What the report's source list says of a source beyond its URL: `kind`, and for a document's page its id,
 * file name (from the page's title, `{filename}, page {n}`) and page.
 */
export const sourceKindOf = (
  url: string,
  title: string,
): { kind: "web" } | { kind: "document"; document_id: string; filename: string; page: number } => {
  const where = parseDocumentLocator(url);
  if (!where) return { kind: "web" };
  const suffix = `, page ${where.page}`;
  const filename = title.endsWith(suffix) ? title.slice(0, -suffix.length) : title;
  return { kind: "document", document_id: where.documentId, filename, page: where.page };
};

/** How a page is titled in the report: its file's name and page. */
const pageTitle = (filename: string, page: number) => `${filename}, page ${page}`;

/**
 * The pages of the owner's ready documents (all of them, or `documentIds`) that best answer `question`, found
 * with the documents' hybrid search and given as search hits (one per page, best first), at most `limit`.
 * @example
 * const hits = await searchDocumentPages(ctx, { userId, question: "termination fee", documentIds: null, limit: 5 });
 */
export const searchDocumentPages = async (
  ctx: ServiceContext,
  input: { userId: string; question: string; documentIds: string[] | null; limit: number },
): Promise<WebHit[]> => {
  const { results } = await findPassages({
    ctx,
    userId: input.userId,
    query: input.question,
    k: input.limit * 2,
    documentIds: input.documentIds,
  });
  const pages = new Map<string, WebHit>();
  for (const hit of results) {
    const url = documentLocator(hit.document_id, hit.page);
    if (pages.has(url)) continue;
    pages.set(url, { url, title: pageTitle(hit.filename, hit.page), description: hit.quote });
    if (pages.size >= input.limit) break;
  }
  return [...pages.values()];
};

/**
 * One page's stored text (what `GET /documents/{id}/text` shows), if the document is the owner's and ready;
 * citations of the page are checked against exactly this text.
 */
export const readDocumentPage = async (ctx: ServiceContext, input: { userId: string; url: string }) => {
  const where = parseDocumentLocator(input.url);
  if (!where) return null;
  const [row] = await ctx.db
    .select({ text: documentPages.text, filename: documents.filename })
    .from(documentPages)
    .innerJoin(documents, eq(documents.id, documentPages.documentId))
    .where(
      and(
        eq(documentPages.documentId, where.documentId),
        eq(documentPages.page, where.page),
        eq(documents.userId, input.userId),
        eq(documents.status, "ready"),
      ),
    );
  return row ? { ...where, text: row.text, filename: row.filename, title: pageTitle(row.filename, where.page) } : null;
};
