import { z } from "zod";

/**
 * Every message APE puts on a queue: versioned (`v`) and tagged (`kind`), so a consumer can refuse what it does
 * not understand instead of guessing. Modules add their kinds to this union.
 */
export const QueueMessageSchema = z.discriminatedUnion("kind", [
  z.object({ v: z.literal(1), kind: z.literal("system.ping"), sentAt: z.iso.datetime() }),
]);

export type QueueMessage = z.infer<typeof QueueMessageSchema>;

/** What handling one message came to: done, or failed and worth another try after a delay. */
export type JobOutcome = { ok: true } | { ok: false; error: string; retryAfterSeconds?: number };
