/**
 * Queues for one test file. Each file has a database of its own, which the Worker's real queue consumer (run by
 * Miniflare with the shared bindings) cannot know, so the harness holds what the app sends and delivers it
 * through APE's real queue handler with the file's own environment, the way Cloudflare would: in batches, with
 * `attempts` counted, a retried message delivered again (its delay recorded, not slept), and a message retried
 * past the queue's `max_retries` moved to its dead-letter queue.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { handleQueueBatch } from "../../workers/jobs/consumer.js";
import { MAX_RETRIES } from "../../workers/jobs/messages.js";

/** The binding each queue name is produced through (wrangler.toml). */
export const QUEUE_BINDINGS = {
  EXTRACTION_QUEUE: "ape-extraction",
  RESEARCH_QUEUE: "ape-research",
  DOCUMENTS_QUEUE: "ape-documents",
  WEBHOOKS_QUEUE: "ape-webhooks",
} as const;

type Held = { id: string; queue: string; body: unknown; attempts: number; timestamp: number };

/** One message the app sent, with the delay it asked for (delivered at once all the same: time is simulated). */
export type Sent = { queue: string; body: unknown; delaySeconds?: number };

/** One delivery, as the test can read it afterwards. */
export type Delivery = {
  queue: string;
  messageId: string;
  attempts: number;
  outcome: "ack" | "retry";
  delaySeconds?: number;
};

export const createJobQueues = () => {
  const waiting: Held[] = [];
  const deliveries: Delivery[] = [];
  const sent: Sent[] = [];
  let refuse = false;
  const note = (queue: string, body: unknown, delaySeconds: number | undefined) =>
    sent.push({ queue, body: structuredClone(body), ...(delaySeconds ? { delaySeconds } : {}) });
  const producer = (queue: string): Queue =>
    ({
      send: async (body: unknown, options?: QueueSendOptions) => {
        if (refuse) throw new Error("Queue send failed: the queue is unavailable");
        note(queue, body, options?.delaySeconds);
        waiting.push({
          id: crypto.randomUUID(),
          queue,
          body: structuredClone(body),
          attempts: 1,
          timestamp: Date.now(),
        });
      },
      sendBatch: async (messages: Iterable<{ body: unknown; delaySeconds?: number }>) => {
        if (refuse) throw new Error("Queue send failed: the queue is unavailable");
        for (const message of messages) {
          note(queue, message.body, message.delaySeconds);
          waiting.push({
            id: crypto.randomUUID(),
            queue,
            body: structuredClone(message.body),
            attempts: 1,
            timestamp: Date.now(),
          });
        }
      },
    }) as unknown as Queue;

  /** Delivers one batch of what waits on `queue` (all of it, or `only` those) through the real handler. */
  const deliver = async (env: Record<string, unknown>, queue: string, batchOf: Held[]) => {
    const ctx = createExecutionContext();
    const batch = createMessageBatch(
      queue,
      batchOf.map((held) => ({ id: held.id, timestamp: held.timestamp, attempts: held.attempts, body: held.body })),
    );
    // Miniflare's queue result leaves out retry delays, so the handler gets a batch that notes them on the way.
    const delays = new Map<string, number | undefined>();
    const noted: MessageBatch<unknown> = {
      queue: batch.queue,
      metadata: batch.metadata,
      messages: batch.messages.map((message) => ({
        id: message.id,
        timestamp: message.timestamp,
        body: message.body,
        attempts: message.attempts,
        ack: () => message.ack(),
        retry: (options?: QueueRetryOptions) => {
          delays.set(message.id, options?.delaySeconds);
          message.retry(options);
        },
      })),
      ackAll: () => batch.ackAll(),
      retryAll: (options?: QueueRetryOptions) => {
        for (const message of batch.messages) delays.set(message.id, options?.delaySeconds);
        batch.retryAll(options);
      },
    };
    await handleQueueBatch(noted, env);
    const result = await getQueueResult(batch, ctx);
    for (const held of batchOf) {
      const retry = result.retryMessages.find((message) => message.msgId === held.id);
      const retried = Boolean(retry) || (result.retryBatch.retry && !result.explicitAcks.includes(held.id));
      const acked = result.ackAll || result.explicitAcks.includes(held.id);
      if (retried || !acked) {
        const delaySeconds = delays.get(held.id);
        deliveries.push({
          queue,
          messageId: held.id,
          attempts: held.attempts,
          outcome: "retry",
          ...(delaySeconds ? { delaySeconds } : {}),
        });
        const max = MAX_RETRIES[queue] ?? 3;
        if (held.attempts > max) waiting.push({ ...held, queue: `${queue}-dlq`, attempts: 1 });
        else waiting.push({ ...held, attempts: held.attempts + 1 });
      } else {
        deliveries.push({ queue, messageId: held.id, attempts: held.attempts, outcome: "ack" });
      }
    }
  };

  return {
    /** Producer bindings for the harness's environment. */
    bindings: () =>
      Object.fromEntries(Object.entries(QUEUE_BINDINGS).map(([binding, queue]) => [binding, producer(queue)])),
    /** What waits, for assertions. */
    waiting: () => waiting.map((held) => ({ ...held })),
    deliveries: () => deliveries.map((delivery) => ({ ...delivery })),
    /** Every message the app sent, in order, with the delay it asked for. */
    sent: () => sent.map((message) => ({ ...message })),
    /** Makes every send fail, as when the queue service is down. */
    refuseSends: (value: boolean) => {
      refuse = value;
    },
    /**
     * Delivers waiting messages (again and again, retries included) until none wait or `maxRounds` pass.
     * `duplicate` delivers each first delivery twice, as at-least-once queues may.
     */
    drain: async (
      env: Record<string, unknown>,
      options: { maxRounds?: number; duplicate?: boolean; onlyOnce?: boolean } = {},
    ) => {
      for (let round = 0; round < (options.maxRounds ?? 20) && waiting.length > 0; round++) {
        const now = waiting.splice(0);
        const byQueue = new Map<string, Held[]>();
        for (const held of now) byQueue.set(held.queue, [...(byQueue.get(held.queue) ?? []), held]);
        for (const [queue, held] of byQueue) {
          if (options.duplicate) {
            await Promise.all([
              deliver(env, queue, held),
              deliver(
                env,
                queue,
                held.map((h) => ({ ...h })),
              ),
            ]);
            // Both deliveries' retries were queued; one copy is enough to carry on with.
            const seen = new Set<string>();
            for (let i = waiting.length - 1; i >= 0; i--) {
              const id = `${waiting[i]?.id}:${waiting[i]?.queue}`;
              if (seen.has(id)) waiting.splice(i, 1);
              else seen.add(id);
            }
          } else await deliver(env, queue, held);
        }
        if (options.onlyOnce) break;
      }
    },
  };
};

export type JobQueues = ReturnType<typeof createJobQueues>;
