import { z } from "zod";

/**
 * Every message APE puts on a queue: versioned (`v`) and tagged (`kind`), so a consumer can refuse what it does
 * not understand instead of guessing. Modules add their kinds to this union.
 */
export const QueueMessageSchema = z.discriminatedUnion("kind", [
  z.object({ v: z.literal(1), kind: z.literal("system.ping"), sentAt: z.iso.datetime() }),
  z.object({ v: z.literal(1), kind: z.literal("document.ingest"), documentId: z.string().startsWith("doc_") }),
  z.object({ v: z.literal(1), kind: z.literal("extraction.run"), jobId: z.string().startsWith("ext_") }),
  z.object({
    v: z.literal(1),
    kind: z.literal("webhook.deliver"),
    deliveryId: z.string().startsWith("whd_"),
    attempt: z.number().int().min(1),
    waitSeconds: z.number().int().min(1).optional(),
  }),
  z.object({ v: z.literal(1), kind: z.literal("research.run"), sessionId: z.string().startsWith("res_") }),
]);

export type QueueMessage = z.infer<typeof QueueMessageSchema>;

/** What handling one message came to (one type for every kind of job: src/services/jobs/outcome.ts). */
export type { JobOutcome } from "../../src/services/jobs/outcome.js";

/**
 * Retries each queue allows before its dead-letter queue (wrangler.toml's `max_retries`, which is not visible
 * to the Worker at run time): a handler gives its final answer on the delivery after the last retry.
 */
export const MAX_RETRIES: Record<string, number> = {
  "ape-extraction": 5,
  "ape-research": 5,
  "ape-documents": 5,
  "ape-webhooks": 10,
};
