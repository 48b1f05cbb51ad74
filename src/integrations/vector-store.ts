import type { Database } from "../db/client.js";
import type { Env } from "../env.js";
import { createPostgresVectorStore } from "./vector-store-postgres.js";
import { createUpstashVectorStore } from "./vector-store-upstash.js";

/**
 * One vector to store. `id` is `${documentId}#${ordinal}`, so a document's vectors share a prefix; `metadata`
 * always carries `document_id` (the stores filter on it).
 * @example
 * const item: VectorItem = { id: "doc_1#0", vector: [0.6, 0.8], metadata: { document_id: "doc_1", page: 1 } };
 */
export type VectorItem = { id: string; vector: number[]; metadata: Record<string, unknown> };

/** A stored vector near a query: `score` is the cosine similarity, from -1 to 1 (1: the same direction). */
export type VectorMatch = { id: string; score: number; metadata: Record<string, unknown> };

/**
 * Where the chunks' vectors live: Upstash Vector in production, Postgres locally and in small deployments.
 * Namespaces never see each other: a user's documents live in {@link userDocumentsNamespace}.
 * @example
 * const store = createVectorStore(ctx);
 * await store.upsert(userDocumentsNamespace(userId), [{ id: "doc_1#0", vector, metadata: { document_id: "doc_1" } }]);
 * const matches = await store.query(userDocumentsNamespace(userId), { vector: question, topK: 8 });
 */
export interface VectorStore {
  readonly kind: "upstash" | "postgres";
  /** Inserts or replaces (by id) vectors of one dimension; every item's metadata must carry `document_id`. */
  upsert(namespace: string, items: VectorItem[]): Promise<void>;
  /**
   * The `topK` (1 to 1000) stored vectors nearest to `vector`, best first. `filter.documentIds` keeps only
   * those documents' vectors (an empty list matches nothing).
   */
  query(
    namespace: string,
    input: { vector: number[]; topK: number; filter?: { documentIds?: string[] } },
  ): Promise<VectorMatch[]>;
  /** Removes every vector whose id starts with `prefix` (a document's: `${documentId}#`). */
  deleteByPrefix(namespace: string, prefix: string): Promise<void>;
  /** Removes a namespace and all its vectors; a namespace that does not exist is already gone. */
  deleteNamespace(namespace: string): Promise<void>;
}

/** The namespace of one user's document vectors (the seed's collection name). */
export const userDocumentsNamespace = (userId: string) => `user_${userId}_documents`;

/** The most matches a query returns (Upstash Vector's own limit, kept for Postgres so both behave alike). */
export const MAX_TOP_K = 1000;

/**
 * `topK` within 1..MAX_TOP_K; 0 (or less) asks for nothing. Shared by the stores.
 * @example
 * clampTopK(5000) // 1000
 */
export const clampTopK = (topK: number) => Math.min(MAX_TOP_K, Math.max(0, Math.floor(topK)));

/**
 * Refuses, before anything is written, an item the stores could not filter on later or whose dimension differs
 * from the others'. Shared by the stores.
 * @example
 * checkItems([{ id: "doc_1#0", vector: [1, 0], metadata: {} }]); // throws: no metadata.document_id
 */
export const checkItems = (items: VectorItem[]) => {
  const dimension = items[0]?.vector.length ?? 0;
  for (const item of items) {
    if (typeof item.metadata.document_id !== "string") {
      throw new TypeError(`vector ${item.id} has no metadata.document_id`);
    }
    if (item.vector.length === 0 || item.vector.length !== dimension) {
      throw new TypeError(`vector ${item.id} has ${item.vector.length} dimensions, expected ${dimension}`);
    }
    if (!item.vector.every(Number.isFinite)) throw new TypeError(`vector ${item.id} holds a non-finite number`);
  }
};

/**
 * The configured store: Upstash Vector when UPSTASH_VECTOR_REST_URL is set, else Postgres. `ctx.db` is read
 * only when the Postgres store runs a query, so an Upstash deployment opens no database socket for vectors.
 * @example
 * const store = createVectorStore(ctx); // ctx: ServiceContext
 * await store.deleteByPrefix(userDocumentsNamespace(ctx.caller.userId), `${documentId}#`);
 */
export const createVectorStore = (ctx: { env: Env; readonly db: Database }): VectorStore => {
  const { UPSTASH_VECTOR_REST_URL: url, UPSTASH_VECTOR_REST_TOKEN: token } = ctx.env;
  if (url) {
    // The env schema refuses a URL without its token, so this only guards a hand-built env.
    if (!token) throw new Error("UPSTASH_VECTOR_REST_TOKEN is required when UPSTASH_VECTOR_REST_URL is set");
    return createUpstashVectorStore({ url, token });
  }
  return createPostgresVectorStore(() => ctx.db);
};
