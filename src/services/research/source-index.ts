import { and, eq, inArray, sql } from "drizzle-orm";
import { type RankedPassage, researchChunks } from "../../db/schema/index.js";
import { createEmbedder } from "../../integrations/embeddings.js";
import { createVectorStore } from "../../integrations/vector-store.js";
import type { ServiceContext } from "../context.js";
import { chunkPages } from "../documents/chunk.js";

/** Reciprocal rank fusion's constant, as the documents search uses it. */
const RRF_K = 60;
/** Candidates asked of each retriever per passage wanted. */
const CANDIDATES_PER_RESULT = 4;
/** No source fills a section's passages alone: at most this many passages come from one source. */
const MAX_PER_SOURCE = 3;

/** The vector namespace of one session's sources (the seed's `research_{id}` collection). */
export const researchNamespace = (sessionId: string) => `research_${sessionId}`;

/**
 * Adds one read source to the session's index: its text chunked as documents are, each chunk stored for full
 * text search and, when an embedding model is configured, embedded into the session's namespace. Chunk ids
 * are `{sessionId}#{source}.{ordinal}`, so indexing the same source again (a redelivered run) replaces nothing.
 * @example
 * await indexSource(ctx, { sessionId, sourceIndex: 3, url, text: markdown });
 */
export const indexSource = async (
  ctx: ServiceContext,
  input: { sessionId: string; sourceIndex: number; url: string; text: string },
) => {
  const chunks = chunkPages([{ page: 1, text: input.text }]);
  if (chunks.length === 0) return 0;
  const rows = chunks.map((chunk) => ({
    id: `${input.sessionId}#${input.sourceIndex}.${chunk.ordinal}`,
    sessionId: input.sessionId,
    url: input.url,
    ordinal: chunk.ordinal,
    content: chunk.content,
  }));
  await ctx.db.insert(researchChunks).values(rows).onConflictDoNothing();
  const embedder = createEmbedder(ctx.env);
  if (embedder) {
    const { vectors } = await embedder.embed(rows.map((row) => row.content));
    await createVectorStore(ctx).upsert(
      researchNamespace(input.sessionId),
      rows.flatMap((row, index) => {
        const vector = vectors[index];
        return vector ? [{ id: row.id, vector, metadata: { document_id: input.sessionId, url: row.url } }] : [];
      }),
    );
  }
  return rows.length;
};

type ChunkRow = { id: string; url: string; content: string };

const chunkColumns = { id: researchChunks.id, url: researchChunks.url, content: researchChunks.content };

/**
 * The passages of a session's sources that best answer `question`: Postgres full text (ranked first by how
 * many of the question's words a passage holds, as the documents search does), fused by reciprocal rank with
 * the session's vectors when an embedding model is configured; at most {@link MAX_PER_SOURCE} from one source.
 * @example
 * const passages = await rankPassages(ctx, { sessionId, question: "Why does water boil lower at altitude?", k: 6 });
 */
export const rankPassages = async (
  ctx: ServiceContext,
  input: { sessionId: string; question: string; k: number },
): Promise<RankedPassage[]> => {
  const limit = input.k * CANDIDATES_PER_RESULT;
  const tsquery = sql`replace(plainto_tsquery('english', ${input.question})::text, '&', '|')::tsquery`;
  const coverage = sql`(select count(*) from unnest(tsvector_to_array(to_tsvector('english', ${input.question}))) as q(lexeme) where ${researchChunks.search} @@ quote_literal(q.lexeme)::tsquery)`;
  const byText: ChunkRow[] = await ctx.db
    .select(chunkColumns)
    .from(researchChunks)
    .where(and(eq(researchChunks.sessionId, input.sessionId), sql`${researchChunks.search} @@ ${tsquery}`))
    .orderBy(sql`${coverage} desc`, sql`ts_rank_cd(${researchChunks.search}, ${tsquery}, 1) desc`, researchChunks.id)
    .limit(limit);
  let byVector: ChunkRow[] = [];
  const embedder = createEmbedder(ctx.env);
  if (embedder) {
    const { vectors } = await embedder.embed([input.question]);
    const vector = vectors[0];
    const matches = vector
      ? await createVectorStore(ctx).query(researchNamespace(input.sessionId), { vector, topK: limit })
      : [];
    if (matches.length > 0) {
      const rows = await ctx.db
        .select(chunkColumns)
        .from(researchChunks)
        .where(
          and(
            eq(researchChunks.sessionId, input.sessionId),
            inArray(
              researchChunks.id,
              matches.map((match) => match.id),
            ),
          ),
        );
      const byId = new Map(rows.map((row) => [row.id, row]));
      byVector = matches.flatMap((match) => byId.get(match.id) ?? []);
    }
  }
  const fused = new Map<string, { row: ChunkRow; score: number }>();
  for (const list of [byText, byVector]) {
    list.forEach((row, rank) => {
      const entry = fused.get(row.id) ?? { row, score: 0 };
      entry.score += 1 / (RRF_K + rank + 1);
      fused.set(row.id, entry);
    });
  }
  const perSource = new Map<string, number>();
  const passages: RankedPassage[] = [];
  for (const { row } of [...fused.values()].sort((a, b) => b.score - a.score || a.row.id.localeCompare(b.row.id))) {
    const taken = perSource.get(row.url) ?? 0;
    if (taken >= MAX_PER_SOURCE) continue;
    perSource.set(row.url, taken + 1);
    passages.push({ chunk_id: row.id, url: row.url, text: row.content });
    if (passages.length >= input.k) break;
  }
  return passages;
};
