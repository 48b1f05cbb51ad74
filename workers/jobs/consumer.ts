import { checkEnv, type Env, type RawEnv } from "../../src/env.js";
import { createLogger, type Logger } from "../../src/lib/log.js";
import { withBackgroundContext } from "../../src/services/background-context.js";
import type { ServiceContext } from "../../src/services/context.js";
import { failDeadLetteredDocument, ingestDocument } from "../../src/services/documents/ingest.js";
import { failDeadLetteredJob, runExtractionJob } from "../../src/services/extraction/run-job.js";
import { failDeadLetteredSession, runResearchSession } from "../../src/services/research/run-session.js";
import { deliverWebhook, failDeadLetteredDelivery } from "../../src/services/webhooks/deliver.js";
import { type JobOutcome, MAX_RETRIES, type QueueMessage, QueueMessageSchema } from "./messages.js";

type Delivery = { queue: string; attempts: number; messageId: string };

/** The queue whose messages of one batch are handled side by side. */
const CONCURRENT_QUEUE = "ape-webhooks";

const handle = async (
  message: QueueMessage,
  env: Env,
  log: Logger,
  delivery: Delivery,
  shared: ServiceContext | null,
): Promise<JobOutcome> => {
  const context = { env, log, requestId: `job_${delivery.messageId}` };
  const run = { attempts: delivery.attempts, last: delivery.attempts > (MAX_RETRIES[delivery.queue] ?? 0) };
  switch (message.kind) {
    case "system.ping":
      return { ok: true };
    case "document.ingest":
      return withBackgroundContext(context, (ctx) =>
        ingestDocument({ ctx, documentId: message.documentId, delivery: run }),
      );
    case "extraction.run":
      return withBackgroundContext(context, (ctx) => runExtractionJob({ ctx, jobId: message.jobId, delivery: run }));
    case "webhook.deliver":
      return shared
        ? deliverWebhook({ ctx: shared, message })
        : withBackgroundContext(context, (ctx) => deliverWebhook({ ctx, message }));
    case "research.run":
      return withBackgroundContext(context, (ctx) =>
        runResearchSession({ ctx, sessionId: message.sessionId, delivery: run }),
      );
  }
};

/** What a dead-lettered message leaves behind: the job it was for is marked failed, so nobody waits on it. */
const handleDeadLetter = async (body: unknown, env: Env, log: Logger) => {
  const parsed = QueueMessageSchema.safeParse(body);
  if (!parsed.success) return;
  const message = parsed.data;
  if (message.kind === "document.ingest") {
    await withBackgroundContext({ env, log }, (ctx) =>
      failDeadLetteredDocument({ ctx, documentId: message.documentId }),
    );
  }
  if (message.kind === "extraction.run") {
    await withBackgroundContext({ env, log }, (ctx) => failDeadLetteredJob({ ctx, jobId: message.jobId }));
  }
  if (message.kind === "webhook.deliver") {
    await withBackgroundContext({ env, log }, (ctx) =>
      failDeadLetteredDelivery({ ctx, deliveryId: message.deliveryId }),
    );
  }
  if (message.kind === "research.run") {
    await withBackgroundContext({ env, log }, (ctx) => failDeadLetteredSession({ ctx, sessionId: message.sessionId }));
  }
};

/**
 * The queue handler for every APE queue. Messages are parsed, and one of an unknown kind or version is retried
 * until the queue moves it to its dead-letter queue, where it stays visible instead of vanishing. Messages on
 * a dead-letter queue are logged, their job marked failed, and acknowledged.
 * @example
 * export default { fetch, queue: handleQueueBatch };
 */
export const handleQueueBatch = async (batch: MessageBatch<unknown>, rawEnv: RawEnv): Promise<void> => {
  const check = checkEnv(rawEnv);
  const log = createLogger({ level: check.ok ? check.env.LOG_LEVEL : "info", fields: { queue: batch.queue } });
  if (!check.ok) {
    log.error("environment invalid; messages wait", { problems: check.problems });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  const env = check.env;
  const handleOne = async (message: Message<unknown>, shared: ServiceContext | null) => {
    if (batch.queue.endsWith("-dlq")) {
      log.error("message dead-lettered", { messageId: message.id, attempts: message.attempts });
      try {
        await handleDeadLetter(message.body, env, log);
        message.ack();
      } catch (error) {
        log.error("dead letter not recorded", { messageId: message.id, error });
        message.retry({ delaySeconds: 30 });
      }
      return;
    }
    const parsed = QueueMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      log.error("unknown queue message", { messageId: message.id, issues: parsed.error.issues.length });
      message.retry();
      return;
    }
    const delivery = { queue: batch.queue, attempts: message.attempts, messageId: message.id };
    try {
      const outcome = await handle(parsed.data, env, log, delivery, shared);
      if (outcome.ok) message.ack();
      else {
        log.warn("job failed, will retry", { messageId: message.id, kind: parsed.data.kind, error: outcome.error });
        message.retry(outcome.retryAfterSeconds ? { delaySeconds: outcome.retryAfterSeconds } : {});
      }
    } catch (error) {
      log.error("job crashed", { messageId: message.id, kind: parsed.data.kind, error });
      message.retry();
    }
  };
  // Webhook deliveries are small and independent, and mostly wait on receivers: a batch's are sent at once,
  // sharing one database pool. Other jobs (documents, extraction, research) are large: one at a time.
  if (batch.queue === CONCURRENT_QUEUE) {
    await withBackgroundContext({ env, log, requestId: `batch_${crypto.randomUUID()}` }, (ctx) =>
      Promise.all(batch.messages.map((message) => handleOne(message, ctx))),
    );
    return;
  }
  for (const message of batch.messages) await handleOne(message, null);
};
