import { checkEnv, type RawEnv } from "../../src/env.js";
import { createLogger } from "../../src/lib/log.js";
import { type JobOutcome, type QueueMessage, QueueMessageSchema } from "./messages.js";

const handle = async (message: QueueMessage): Promise<JobOutcome> => {
  switch (message.kind) {
    case "system.ping":
      return { ok: true };
  }
};

/**
 * The queue handler for every APE queue. Dead-letter queues are logged and acknowledged; other messages are
 * parsed, and one of an unknown kind or version is retried until the queue moves it to its dead-letter queue,
 * where it stays visible instead of vanishing.
 * @example
 * export default { fetch, queue: handleQueueBatch };
 */
export const handleQueueBatch = async (batch: MessageBatch<unknown>, rawEnv: RawEnv): Promise<void> => {
  const check = checkEnv(rawEnv);
  const log = createLogger({ level: check.ok ? check.env.LOG_LEVEL : "info", fields: { queue: batch.queue } });
  for (const message of batch.messages) {
    if (batch.queue.endsWith("-dlq")) {
      log.error("message dead-lettered", { messageId: message.id, attempts: message.attempts });
      message.ack();
      continue;
    }
    const parsed = QueueMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      log.error("unknown queue message", { messageId: message.id, issues: parsed.error.issues.length });
      message.retry();
      continue;
    }
    try {
      const outcome = await handle(parsed.data);
      if (outcome.ok) message.ack();
      else {
        log.warn("job failed, will retry", { messageId: message.id, kind: parsed.data.kind, error: outcome.error });
        message.retry(outcome.retryAfterSeconds ? { delaySeconds: outcome.retryAfterSeconds } : {});
      }
    } catch (error) {
      log.error("job crashed", { messageId: message.id, kind: parsed.data.kind, error });
      message.retry();
    }
  }
};
