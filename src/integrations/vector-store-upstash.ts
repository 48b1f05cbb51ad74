import { Index } from "@upstash/vector/cloudflare";
import { checkItems, clampTopK, type VectorItem, type VectorMatch, type VectorStore } from "./vector-store.js";

/** Upstash takes at most 1,000 vectors an upsert. */
const MAX_BATCH_ITEMS = 1000;
// Also bounded by size: 1,000 vectors of 1,536 dimensions are some 30 MB of JSON, far past what one request
// should carry. 2 MB keeps every request small whatever the model's dimension.
const MAX_BATCH_BYTES = 2_000_000;
/** How long one request may take before it fails, unless told otherwise (the SDK has no timeout of its own). */
const REQUEST_TIMEOUT_MS = 15_000;

/** Upstash's filter literal: single-quoted, with backslashes and quotes escaped. */
const quote = (value: string) => `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;

/** Splits items into upserts within both limits. */
const batches = (items: VectorItem[]) => {
  const out: VectorItem[][] = [];
  let current: VectorItem[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = JSON.stringify(item).length;
    if (current.length > 0 && (current.length >= MAX_BATCH_ITEMS || bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
};

/**
 * The vector store on Upstash Vector (an index created with the COSINE similarity function and the embedding
 * model's dimension), one Upstash namespace per APE namespace.
 *
 * The SDK, checked inside workerd (test/integration/vector-store.test.ts), with three quirks handled here:
 * - `@upstash/vector/cloudflare`, not the package root: the root resolves to the Node build, which reads
 *   `process.env` and sends `cache: "no-store"` with every fetch. Both work under today's compatibility date
 *   and nodejs_compat, but older dates reject the `cache` field ("The 'cache' field on 'RequestInitializerDict'
 *   is not implemented"); the Workers build sends neither, as `@upstash/redis/cloudflare` does (redis.ts).
 * - Retries: `retry: false` still makes two attempts (its loop runs `attempts + 1` times), so `retries: 0`.
 *   The SDK retries only network errors anyway; the queue consumer retries a failed job as a whole.
 * - Timeouts: given an AbortSignal, the SDK swallows an abort and hands back the signal's reason (or the string
 *   "Aborted") as if it were the command's result; given a function returning a signal, it calls it for each
 *   request and throws on abort. So a function, making a fresh timeout per request.
 * Upstash reports cosine as `(1 + cosine) / 2`; matches are turned back into the cosine the interface promises.
 * @example
 * const store = createUpstashVectorStore({ url: env.UPSTASH_VECTOR_REST_URL, token: env.UPSTASH_VECTOR_REST_TOKEN });
 */
export const createUpstashVectorStore = (options: { url: string; token: string; timeoutMs?: number }): VectorStore => {
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const index = new Index({
    url: options.url,
    token: options.token,
    enableTelemetry: false,
    retry: { retries: 0 },
    signal: () => AbortSignal.timeout(timeoutMs),
  });

  return {
    kind: "upstash",

    async upsert(namespace, items) {
      checkItems(items);
      const space = index.namespace(namespace);
      for (const batch of batches(items)) await space.upsert(batch);
    },

    async query(namespace, input): Promise<VectorMatch[]> {
      const topK = clampTopK(input.topK);
      const documentIds = input.filter?.documentIds;
      if (topK === 0 || documentIds?.length === 0) return [];
      const results = await index.namespace(namespace).query<Record<string, unknown>>({
        vector: input.vector,
        topK,
        includeMetadata: true,
        ...(documentIds ? { filter: `document_id IN (${documentIds.map(quote).join(", ")})` } : {}),
      });
      return results.map((result) => ({
        id: String(result.id),
        score: 2 * result.score - 1,
        metadata: result.metadata ?? {},
      }));
    },

    async deleteByPrefix(namespace, prefix) {
      // An empty prefix would match the whole namespace; that is deleteNamespace's job, asked for by name.
      if (prefix === "") throw new TypeError("deleteByPrefix needs a non-empty prefix");
      await index.namespace(namespace).delete({ prefix });
    },

    async deleteNamespace(namespace) {
      try {
        await index.deleteNamespace(namespace);
      } catch (error) {
        // Upstash answers 404 "Namespace … does not exist" for one never written to (or already deleted); the
        // SDK keeps only the message.
        if (error instanceof Error && /does not exist/i.test(error.message)) return;
        throw error;
      }
    },
  };
};
