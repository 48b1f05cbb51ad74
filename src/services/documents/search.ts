import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import { documentChunks, documents } from "../../db/schema/index.js";
import { createVectorStore, userDocumentsNamespace } from "../../integrations/vector-store.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";
import { requireDocumentIds } from "./documents.js";
import { meteredEmbedder } from "./metered.js";

/** Reciprocal rank fusion's constant: 60, as in Cormack et al., so no one list's top rank dominates. */
const RRF_K = 60;
/** Each retriever is asked for this many candidates per result wanted, so fusion has something to fuse. */
const CANDIDATES_PER_RESULT = 4;
const QUOTE_CHARS = 400;

/** One passage found, with where it is and how it was found. */
export type SearchHit = {
  chunk_id: string;
  document_id: string;
  filename: string;
  page: number;
  char_start: number;
  char_end: number;
  heading: string | null;
  quote: string;
  content: string;
  score: number;
  matched_by: Array<"text" | "vector">;
};

type ChunkRow = {
  id: string;
  documentId: string;
  filename: string;
  page: number;
  charStart: number;
  charEnd: number;
  heading: string | null;
  content: string;
};

const chunkColumns = {
  id: documentChunks.id,
  documentId: documentChunks.documentId,
  filename: documents.filename,
  page: documentChunks.page,
  charStart: documentChunks.charStart,
  charEnd: documentChunks.charEnd,
  heading: documentChunks.heading,
  content: documentChunks.content,
};

/** Chunks of one user's ready documents that also meet `conditions`: every retriever starts here. */
const readyChunks = (ctx: ServiceContext, userId: string, ...conditions: Array<SQL | undefined>) =>
  ctx.db
    .select(chunkColumns)
    .from(documentChunks)
    .innerJoin(documents, eq(documents.id, documentChunks.documentId))
    .where(and(eq(documentChunks.userId, userId), eq(documents.status, "ready"), ...conditions));

/**
 * Full-text candidates: Postgres's English stemming, any of the query's words (a passage with more of them,
 * closer together, ranks higher), over the owner's ready documents. Needs no model, so it always works.
 */
const textCandidates = async (
  ctx: ServiceContext,
  input: { userId: string; query: string; documentIds: string[] | null; limit: number },
): Promise<ChunkRow[]> => {
  // plainto_tsquery joins the words with AND; a question rarely has every word of its answer, so OR them.
  const tsquery = sql`replace(plainto_tsquery('english', ${input.query})::text, '&', '|')::tsquery`;
  // Ranked first by how many of the query's distinct words a passage holds, then by ts_rank_cd (normalised
  // by length): ts_rank_cd alone lets a passage that repeats one common word ("table" eight times) beat the
  // one holding the rare words the question is about.
  const coverage = sql`(select count(*) from unnest(tsvector_to_array(to_tsvector('english', ${input.query}))) as q(lexeme) where ${documentChunks.search} @@ quote_literal(q.lexeme)::tsquery)`;
  return readyChunks(
    ctx,
    input.userId,
    input.documentIds ? inArray(documentChunks.documentId, input.documentIds) : undefined,
    sql`${documentChunks.search} @@ ${tsquery}`,
  )
    .orderBy(sql`${coverage} desc`, sql`ts_rank_cd(${documentChunks.search}, ${tsquery}, 1) desc`, documentChunks.id)
    .limit(input.limit);
};

/** Vector candidates, when an embedding model is configured: the query's nearest chunks in the owner's namespace. */
const vectorCandidates = async (
  ctx: ServiceContext,
  input: { userId: string; query: string; documentIds: string[] | null; limit: number },
): Promise<ChunkRow[] | null> => {
  const embedder = meteredEmbedder(ctx, { userId: input.userId, during: "request" });
  if (!embedder) return null;
  const { vectors } = await embedder.embed([input.query]);
  const vector = vectors[0];
  if (!vector) return [];
  const matches = await createVectorStore(ctx).query(userDocumentsNamespace(input.userId), {
    vector,
    topK: input.limit,
    ...(input.documentIds ? { filter: { documentIds: input.documentIds } } : {}),
  });
  if (matches.length === 0) return [];
  // The store answers ids; the chunks come from Postgres, filtered by owner and readiness again, so a stale
  // vector of a deleted or re-ingested document never surfaces.
  const rows = await readyChunks(
    ctx,
    input.userId,
    inArray(
      documentChunks.id,
      matches.map((match) => match.id),
    ),
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return matches.flatMap((match) => byId.get(match.id) ?? []);
};

const quoteOf = (content: string) =>
  content.length <= QUOTE_CHARS ? content : `${content.slice(0, QUOTE_CHARS).replace(/\s+\S*$/, "")}…`;

/**
 * The best passages of one user's ready documents for `query` (all of them, or only `documentIds`): full-text
 * search always, fused by reciprocal rank with vector search when an embedding model is configured. Ids that
 * are not the user's simply match nothing; routes check them first ({@link searchDocuments}).
 * @example
 * const { results } = await findPassages({ ctx, userId, query: "termination fee", k: 5, documentIds: null });
 */
export const findPassages = async ({
  ctx,
  userId,
  query,
  k,
  documentIds,
  mode = "auto",
}: {
  ctx: ServiceContext;
  userId: string;
  query: string;
  k: number;
  documentIds: string[] | null;
  mode?: "auto" | "text";
}) => {
  if (documentIds && documentIds.length === 0) return { results: [] as SearchHit[], mode: "text" as const };
  const request = { userId, query, documentIds, limit: k * CANDIDATES_PER_RESULT };
  const [byText, byVector] = await Promise.all([
    textCandidates(ctx, request),
    mode === "text" ? null : vectorCandidates(ctx, request),
  ]);
  const fused = new Map<string, { row: ChunkRow; score: number; matchedBy: Array<"text" | "vector"> }>();
  const add = (rows: ChunkRow[], how: "text" | "vector") =>
    rows.forEach((row, rank) => {
      const entry = fused.get(row.id) ?? { row, score: 0, matchedBy: [] };
      entry.score += 1 / (RRF_K + rank + 1);
      entry.matchedBy.push(how);
      fused.set(row.id, entry);
    });
  add(byText, "text");
  if (byVector) add(byVector, "vector");
  const results: SearchHit[] = [...fused.values()]
    .sort((a, b) => b.score - a.score || a.row.id.localeCompare(b.row.id))
    .slice(0, k)
    .map(({ row, score, matchedBy }) => ({
      chunk_id: row.id,
      document_id: row.documentId,
      filename: row.filename,
      page: row.page,
      char_start: row.charStart,
      char_end: row.charEnd,
      heading: row.heading,
      quote: quoteOf(row.content),
      content: row.content,
      score: Number(score.toFixed(6)),
      matched_by: matchedBy,
    }));
  return { results, mode: byVector ? ("hybrid" as const) : ("text" as const) };
};

/**
 * Finds the passages of the caller's documents that best answer `query` ({@link findPassages});
 * `document_ids` narrows the search, and each must be the caller's, else 404.
 * @example
 * const { results } = await searchDocuments({ ctx, input: { query: "termination fee", k: 5 } });
 */
export const searchDocuments = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { query: string; k: number; document_ids?: string[] | undefined; mode?: "auto" | "text" };
}) => {
  if (!ctx.caller) throw new ApiError("UNAUTHENTICATED");
  const documentIds = input.document_ids ? await requireDocumentIds({ ctx, ids: input.document_ids }) : null;
  return findPassages({
    ctx,
    userId: ctx.caller.userId,
    query: input.query,
    k: input.k,
    documentIds,
    mode: input.mode,
  });
};
