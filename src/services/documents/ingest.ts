import { and, eq, lt, or, sql } from "drizzle-orm";
import {
  type DocumentFailure,
  type DocumentRow,
  documentChunks,
  documentPages,
  documents,
} from "../../db/schema/index.js";
import { EmbeddingFailure } from "../../integrations/embeddings.js";
import { TextractFailure } from "../../integrations/textract.js";
import { createVectorStore, userDocumentsNamespace } from "../../integrations/vector-store.js";
import type { ServiceContext } from "../context.js";
import { recordEvent, sendFirstAttempts } from "../webhooks/events.js";
import { documentEventData } from "../webhooks/payloads.js";
import { type Chunk, chunkPages } from "./chunk.js";
import { DocumentError } from "./extract/errors.js";
import { type ExtractedPage, extractionLimits, extractPages } from "./extract/pages.js";
import { meteredEmbedder, meteredOcr } from "./metered.js";

/** How long one ingestion run holds a document before another delivery may take it over. */
const LEASE_SECONDS = 10 * 60;
/** Rows per INSERT: well under Postgres's 65,535 parameters for a chunk's 8 columns. */
const INSERT_BATCH = 1_000;
/** Texts per embedding call. */
const EMBED_BATCH = 64;

/** What one delivery of an ingestion message came to, for the queue consumer to ack or retry. */
export type IngestOutcome =
  | { ok: true; status: "ready" | "failed" | "skipped" }
  | { ok: false; error: string; retryAfterSeconds: number };

/** The id a chunk has in Postgres and in the vector store: its document's id and its place, so a rerun overwrites. */
export const chunkId = (documentId: string, ordinal: number) => `${documentId}#${ordinal}`;

/** Whether a failure is worth another delivery (a busy service), or says the file itself cannot be read. */
const failureOf = (error: unknown): DocumentFailure => {
  if (error instanceof DocumentError) return { code: error.code, message: error.message, retryable: error.retryable };
  if (error instanceof TextractFailure) {
    return { code: `OCR_${error.code}`, message: `OCR failed: ${error.message}`, retryable: error.retryable };
  }
  if (error instanceof EmbeddingFailure) {
    return { code: "EMBEDDING_FAILED", message: `Embedding failed: ${error.message}`, retryable: error.retryable };
  }
  return { code: "INGESTION_CRASHED", message: "Ingestion stopped unexpectedly; it is retried.", retryable: true };
};

/**
 * Takes the document for this run, if no other run holds it: `pending`, or `processing` with a lapsed lease.
 * Returns the row on its new attempt, or why not.
 */
const claim = async (ctx: ServiceContext, documentId: string) => {
  const [claimed] = await ctx.db
    .update(documents)
    .set({
      status: "processing",
      attempt: sql`${documents.attempt} + 1`,
      leaseUntil: sql`now() + make_interval(secs => ${LEASE_SECONDS})`,
      error: null,
    })
    .where(
      and(
        eq(documents.id, documentId),
        or(
          eq(documents.status, "pending"),
          and(eq(documents.status, "processing"), lt(documents.leaseUntil, sql`now()`)),
        ),
      ),
    )
    .returning();
  if (claimed) return { claimed } as const;
  const [row] = await ctx.db
    .select({ status: documents.status, leaseUntil: documents.leaseUntil })
    .from(documents)
    .where(eq(documents.id, documentId));
  return { claimed: null, current: row ?? null } as const;
};

const embedChunks = async (ctx: ServiceContext, doc: DocumentRow, chunks: Chunk[]) => {
  const embedder = meteredEmbedder(ctx, { userId: doc.userId, during: "ingestion" });
  if (!embedder || chunks.length === 0) return null;
  const store = createVectorStore(ctx);
  const namespace = userDocumentsNamespace(doc.userId);
  for (let start = 0; start < chunks.length; start += EMBED_BATCH) {
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
  }
  return embedder.model;
};

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
        pages: result.pages.length,
        characters: result.pages.reduce((sum, page) => sum + page.text.length, 0),
        chunkCount: result.chunks.length,
        ocrPages: result.pages.filter((page) => page.ocr).length,
        embeddingModel: result.embeddingModel,
        readyAt: new Date(),
      })
      .where(and(eq(documents.id, doc.id), eq(documents.attempt, doc.attempt), eq(documents.status, "processing")))
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
      .set({ status: "failed", error: failure, leaseUntil: null })
      .where(and(eq(documents.id, doc.id), eq(documents.attempt, doc.attempt)))
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

/** Hands the document back to the queue's next delivery at once (this run gives up its lease). */
const release = async (ctx: ServiceContext, doc: DocumentRow, failure: DocumentFailure) => {
  await ctx.db
    .update(documents)
    .set({ status: "pending", error: failure, leaseUntil: null })
    .where(and(eq(documents.id, doc.id), eq(documents.attempt, doc.attempt), eq(documents.status, "processing")));
};

/**
 * One delivery of `document.ingest`: reads the stored file, extracts its text page by page (OCR for scans and
 * images), chunks it, embeds the chunks when an embedding model is configured, and commits it all at once.
 * Idempotent: a duplicate delivery finds the document taken or done and does nothing. A file that cannot be
 * read fails at once with its error; a busy service (OCR, embeddings) is retried with backoff, and on the last
 * delivery the document fails with that error, kept for the owner, who can retry it.
 * @example
 * const outcome = await ingestDocument({ ctx, documentId: "doc_…", delivery: { attempts: 1, last: false } });
 */
export const ingestDocument = async ({
  ctx,
  documentId,
  delivery,
}: {
  ctx: ServiceContext;
  documentId: string;
  delivery: { attempts: number; last: boolean };
}): Promise<IngestOutcome> => {
  const taken = await claim(ctx, documentId);
  if (!taken.claimed) {
    const current = taken.current;
    // Deleted, finished or failed: this delivery is a duplicate or stale.
    if (current?.status !== "processing") return { ok: true, status: "skipped" };
    // Another run holds it: come back once its lease lapses, in case that run dies.
    const wait = Math.max(5, Math.ceil(((current?.leaseUntil?.getTime() ?? Date.now()) - Date.now()) / 1000));
    return { ok: false, error: "another run holds the document", retryAfterSeconds: wait };
  }
  const doc = taken.claimed;
  const store = createVectorStore(ctx);
  try {
    const object = await ctx.env.FILES.get(doc.objectKey);
    if (!object) throw new DocumentError("FILE_MISSING", "The stored file is gone; upload it again.", false);
    const bytes = new Uint8Array(await object.arrayBuffer());
    const pages = await extractPages({
      kind: doc.kind,
      bytes,
      ocr: meteredOcr(ctx, doc),
      limits: extractionLimits(ctx.env),
    });
    const chunks = chunkPages(pages);
    const embeddingModel = await embedChunks(ctx, doc, chunks);
    const committed = await commit(ctx, doc, { pages, chunks, embeddingModel });
    if (committed) {
      await sendFirstAttempts(ctx, committed);
    } else {
      // Deleted meanwhile, or taken over by a newer run: what this run put in the vector store is not wanted.
      const [still] = await ctx.db.select({ id: documents.id }).from(documents).where(eq(documents.id, doc.id));
      if (!still) await store.deleteByPrefix(userDocumentsNamespace(doc.userId), `${doc.id}#`);
      return { ok: true, status: "skipped" };
    }
    ctx.log.info("document ready", { documentId: doc.id, pages: pages.length, chunks: chunks.length });
    return { ok: true, status: "ready" };
  } catch (error) {
    const failure = failureOf(error);
    // Expected failures are logged by their code; only the unexpected ones carry their stack.
    if (failure.code === "INGESTION_CRASHED")
      ctx.log.error("document ingestion crashed", { documentId: doc.id, error });
    else
      ctx.log.warn("document ingestion failed", {
        documentId: doc.id,
        code: failure.code,
        retryable: failure.retryable,
      });
    if (failure.retryable && !delivery.last) {
      await release(ctx, doc, failure);
      return { ok: false, error: failure.message, retryAfterSeconds: Math.min(300, 5 * 2 ** delivery.attempts) };
    }
    // No partial result: the chunks were never committed, and the vectors this run wrote go too.
    await store
      .deleteByPrefix(userDocumentsNamespace(doc.userId), `${doc.id}#`)
      .catch((cleanup) => ctx.log.warn("vector clean-up failed", { documentId: doc.id, error: cleanup }));
    await markFailed(ctx, doc, failure);
    return { ok: true, status: "failed" };
  }
};

/**
 * A dead-lettered ingestion message: the document fails with that reason, unless it finished meanwhile.
 */
export const failDeadLetteredDocument = async ({ ctx, documentId }: { ctx: ServiceContext; documentId: string }) => {
  const error: DocumentFailure = {
    code: "DEAD_LETTERED",
    message: "Ingestion failed on every delivery and was set aside; retry the document.",
    retryable: true,
  };
  const deliveries = await ctx.db.transaction(async (tx) => {
    const [failed] = await tx
      .update(documents)
      .set({ status: "failed", leaseUntil: null, error })
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
