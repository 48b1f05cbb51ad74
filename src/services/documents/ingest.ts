import { and, eq, sql } from "drizzle-orm";
import {
  type DocumentCheckpoint,
  type DocumentFailure,
  type DocumentRow,
  documentChunks,
  documentPages,
  documents,
} from "../../db/schema/index.js";
import { createVectorStore, userDocumentsNamespace } from "../../integrations/vector-store.js";
import type { ServiceContext } from "../context.js";
import { DOCUMENT_JOBS, deadLettered, heldBy, runLeased, type SliceResult } from "../jobs/lease.js";
import type { JobOutcome } from "../jobs/outcome.js";
import type { SliceBudget } from "../jobs/slice.js";
import { recordEvent, sendFirstAttempts } from "../webhooks/events.js";
import { documentEventData } from "../webhooks/payloads.js";
import { type Chunk, chunkPages } from "./chunk.js";
import { DocumentError } from "./extract/errors.js";
import { type ExtractedPage, extractionLimits, extractPages } from "./extract/pages.js";
import { meteredEmbedder, meteredOcr } from "./metered.js";

/** Rows per INSERT: well under Postgres's 65,535 parameters for a chunk's 8 columns. */
const INSERT_BATCH = 1_000;
/** Texts per embedding call. */
const EMBED_BATCH = 64;

/** The id a chunk has in Postgres and in the vector store: its document's id and its place, so a rerun overwrites. */
export const chunkId = (documentId: string, ordinal: number) => `${documentId}#${ordinal}`;

/**
 * Embeds the chunks from `from` on, a batch at a time, into the owner's vector namespace; stops after a batch
 * once the slice is spent. Returns how many chunks have vectors now, and the model (null without one).
 */
const embedChunks = async (
  ctx: ServiceContext,
  doc: DocumentRow,
  chunks: Chunk[],
  from: number,
  slice: SliceBudget,
) => {
  const embedder = meteredEmbedder(ctx, { userId: doc.userId, during: "ingestion" });
  if (!embedder || chunks.length === 0) return { embedded: chunks.length, model: null };
  const store = createVectorStore(ctx);
  const namespace = userDocumentsNamespace(doc.userId);
  let start = from;
  for (; start < chunks.length; start += EMBED_BATCH) {
    if (start > from && slice.over()) break;
    const batch = chunks.slice(start, start + EMBED_BATCH);
    const { vectors } = await embedder.embed(
      batch.map((chunk) => (chunk.heading ? `${chunk.heading}\n${chunk.content}` : chunk.content)),
    );
    await store.upsert(
      namespace,
      batch.map((chunk, index) => ({
        id: chunkId(doc.id, chunk.ordinal),
        vector: vectors[index] ?? [],
        metadata: { document_id: doc.id, page: chunk.page, ordinal: chunk.ordinal },
      })),
    );
    slice.spend(2);
  }
  return { embedded: Math.min(start, chunks.length), model: embedder.model };
};

/** Where an ingestion keeps the extracted pages between its slices (deleted once the document is ready). */
const pagesKeyOf = (doc: DocumentRow) => `${doc.objectKey}.ingest/pages.json`;

/**
 * Writes a run's result in one transaction: the pages, the chunks and `ready`, or nothing. The update is
 * conditioned on this run's attempt, so a run that lost its lease (or a deleted document) commits nothing.
 */
const commit = async (
  ctx: ServiceContext,
  doc: DocumentRow,
  result: { pages: ExtractedPage[]; chunks: Chunk[]; embeddingModel: string | null },
) =>
  ctx.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(documents)
      .set({
        status: "ready",
        leaseUntil: null,
        error: null,
        checkpoint: null,
        pages: result.pages.length,
        characters: result.pages.reduce((sum, page) => sum + page.text.length, 0),
        chunkCount: result.chunks.length,
        ocrPages: result.pages.filter((page) => page.ocr).length,
        embeddingModel: result.embeddingModel,
        readyAt: new Date(),
      })
      .where(heldBy(DOCUMENT_JOBS, doc))
      .returning({ id: documents.id });
    if (!updated) return null;
    await tx.delete(documentChunks).where(eq(documentChunks.documentId, doc.id));
    await tx.delete(documentPages).where(eq(documentPages.documentId, doc.id));
    for (let start = 0; start < result.pages.length; start += INSERT_BATCH) {
      await tx.insert(documentPages).values(
        result.pages.slice(start, start + INSERT_BATCH).map((page) => ({
          documentId: doc.id,
          page: page.page,
          label: page.label ?? null,
          ocr: page.ocr ? 1 : 0,
          text: page.text,
        })),
      );
    }
    for (let start = 0; start < result.chunks.length; start += INSERT_BATCH) {
      await tx.insert(documentChunks).values(
        result.chunks.slice(start, start + INSERT_BATCH).map((chunk) => ({
          id: chunkId(doc.id, chunk.ordinal),
          documentId: doc.id,
          userId: doc.userId,
          ordinal: chunk.ordinal,
          page: chunk.page,
          charStart: chunk.charStart,
          charEnd: chunk.charEnd,
          heading: chunk.heading,
          content: chunk.content,
        })),
      );
    }
    return recordEvent(tx, {
      userId: doc.userId,
      type: "document.ready",
      data: documentEventData({ ...doc, status: "ready", pages: result.pages.length, chunks: result.chunks.length }),
    });
  });

/** Marks this run's attempt failed with its error (a newer run's state is left alone), and says so by webhook. */
const markFailed = async (ctx: ServiceContext, doc: DocumentRow, failure: DocumentFailure) => {
  const deliveries = await ctx.db.transaction(async (tx) => {
    const [failed] = await tx
      .update(documents)
      .set({ status: "failed", error: failure, leaseUntil: null, checkpoint: null })
      .where(heldBy(DOCUMENT_JOBS, doc))
      .returning({ id: documents.id });
    if (!failed) return [];
    return recordEvent(tx, {
      userId: doc.userId,
      type: "document.failed",
      data: documentEventData({ ...doc, status: "failed", error: failure }),
    });
  });
  await sendFirstAttempts(ctx, deliveries);
};

/**
 * One slice of an ingestion: the first extracts the text page by page (OCR for scans and images) and keeps
 * the pages in R2; the next ones chunk them and embed the chunks a batch at a time (when an embedding model is
 * configured), checkpointing how many have vectors; the last commits it all at once.
 */
const ingestSlice = async (ctx: ServiceContext, doc: DocumentRow, slice: SliceBudget): Promise<SliceResult> => {
  let checkpoint: DocumentCheckpoint | null = doc.checkpoint;
  let pages: ExtractedPage[];
  if (!checkpoint) {
    const object = await ctx.env.FILES.get(doc.objectKey);
    if (!object) throw new DocumentError("FILE_MISSING", "The stored file is gone; upload it again.", false);
    const bytes = new Uint8Array(await object.arrayBuffer());
    pages = await extractPages({
      kind: doc.kind,
      bytes,
      ocr: meteredOcr(ctx, doc),
      limits: extractionLimits(ctx.env),
    });
    checkpoint = { pages_key: pagesKeyOf(doc), embedded: 0, embedding_model: null };
    await ctx.env.FILES.put(checkpoint.pages_key, JSON.stringify(pages), {
      httpMetadata: { contentType: "application/json" },
    });
    slice.spend(2);
    if (slice.over()) return { next: { checkpoint } };
  } else {
    const stored = await ctx.env.FILES.get(checkpoint.pages_key);
    if (!stored) throw new DocumentError("CHECKPOINT_MISSING", "The extracted text is gone; retry the document.", true);
    pages = JSON.parse(await stored.text()) as ExtractedPage[];
  }
  const chunks = chunkPages(pages);
  if (checkpoint.embedded < chunks.length) {
    const embedded = await embedChunks(ctx, doc, chunks, checkpoint.embedded, slice);
    checkpoint = { ...checkpoint, embedded: embedded.embedded, embedding_model: embedded.model };
    if (embedded.embedded < chunks.length) return { next: { checkpoint } };
  }
  const committed = await commit(ctx, doc, { pages, chunks, embeddingModel: checkpoint.embedding_model });
  if (!committed) {
    // Deleted meanwhile, or taken over by a newer run: what this run put in the vector store is not wanted.
    const [still] = await ctx.db.select({ id: documents.id }).from(documents).where(eq(documents.id, doc.id));
    if (!still) await createVectorStore(ctx).deleteByPrefix(userDocumentsNamespace(doc.userId), `${doc.id}#`);
    return { done: "cancelled" };
  }
  await sendFirstAttempts(ctx, committed);
  await ctx.env.FILES.delete(checkpoint.pages_key).catch(() => undefined);
  ctx.log.info("document ready", { documentId: doc.id, pages: pages.length, chunks: chunks.length });
  return { done: "ready" };
};

/**
 * One delivery of `document.ingest`, a slice of the ingestion (see {@link ingestSlice}), run under the job
 * lease. Idempotent: a duplicate delivery finds the document taken or done and does nothing. A file that
 * cannot be read fails at once with its error; a busy service (OCR, embeddings) is retried with backoff, and
 * on the last delivery the document fails with that error, kept for the owner, who can retry it.
 * @example
 * const outcome = await ingestDocument({ ctx, documentId: "doc_…", delivery: { attempts: 1, last: false } });
 */
export const ingestDocument = ({
  ctx,
  documentId,
  delivery,
}: {
  ctx: ServiceContext;
  documentId: string;
  delivery: { attempts: number; last: boolean };
}): Promise<JobOutcome> =>
  runLeased({
    ctx,
    kind: DOCUMENT_JOBS,
    id: documentId,
    delivery,
    claimSet: { error: null },
    work: (doc, slice) => ingestSlice(ctx, doc, slice),
    fail: async (doc, failure) => {
      // No partial result: the chunks were never committed, and the vectors this run wrote go too.
      await createVectorStore(ctx)
        .deleteByPrefix(userDocumentsNamespace(doc.userId), `${doc.id}#`)
        .catch((cleanup) => ctx.log.warn("vector clean-up failed", { documentId: doc.id, error: cleanup }));
      await markFailed(ctx, doc, failure);
    },
  });

/**
 * A dead-lettered ingestion message: the document fails with that reason, unless it finished meanwhile.
 */
export const failDeadLetteredDocument = async ({ ctx, documentId }: { ctx: ServiceContext; documentId: string }) => {
  const error: DocumentFailure = deadLettered("document");
  const deliveries = await ctx.db.transaction(async (tx) => {
    const [failed] = await tx
      .update(documents)
      .set({ status: "failed", leaseUntil: null, error, checkpoint: null })
      .where(and(eq(documents.id, documentId), sql`${documents.status} not in ('ready', 'failed')`))
      .returning();
    if (!failed) return [];
    return recordEvent(tx, {
      userId: failed.userId,
      type: "document.failed",
      data: documentEventData({ ...failed, status: "failed", error }),
    });
  });
  await sendFirstAttempts(ctx, deliveries);
};
