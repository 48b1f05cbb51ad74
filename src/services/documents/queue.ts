import { eq } from "drizzle-orm";
import { documents } from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";

/**
 * Puts a document's ingestion on the `documents` queue. If the queue refuses, the document is marked failed
 * (retryable) with that reason, so it never sits `pending` with nothing coming, and the caller gets a 503.
 */
export const enqueueIngestion = async (ctx: ServiceContext, input: { documentId: string; userId: string }) => {
  try {
    await ctx.env.DOCUMENTS_QUEUE.send({ v: 1, kind: "document.ingest", documentId: input.documentId });
  } catch (error) {
    ctx.log.error("documents queue refused a message", { documentId: input.documentId, error });
    await ctx.db
      .update(documents)
      .set({
        status: "failed",
        error: { code: "QUEUE_UNAVAILABLE", message: "The ingestion queue was unavailable; retry.", retryable: true },
      })
      .where(eq(documents.id, input.documentId));
    throw new ApiError("NOT_READY", "The ingestion queue is unavailable; the document is kept, retry it later.", {
      cause: error,
    });
  }
};
