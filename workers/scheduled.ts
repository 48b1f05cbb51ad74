import { checkEnv, type RawEnv } from "../src/env.js";
import { createLogger } from "../src/lib/log.js";
import { withBackgroundContext } from "../src/services/background-context.js";
import { sweepJobs } from "../src/services/jobs/sweep.js";
import { flushUsage } from "../src/services/usage/record-usage.js";
import { sweepDeliveries } from "../src/services/webhooks/sweep.js";

/**
 * The scheduled (cron) handler: moves usage that waits in Redis to Postgres, so the last calls of a quiet
 * period are written within a minute even when no later call flushes them; and queues again the webhook
 * deliveries and the jobs (a next slice, a backoff, a run that died) whose message was lost.
 * @example
 * export default { scheduled: (controller, env, ctx) => ctx.waitUntil(runScheduled(env)) };
 */
export const runScheduled = async (rawEnv: RawEnv) => {
  const check = checkEnv(rawEnv);
  const log = createLogger({ level: check.ok ? check.env.LOG_LEVEL : "info", fields: { trigger: "cron" } });
  if (!check.ok) {
    log.error("environment invalid", { problems: check.problems });
    return;
  }
  try {
    const moved = await withBackgroundContext({ env: check.env, log }, (ctx) => flushUsage({ ctx }));
    if (moved > 0) log.info("usage flushed", { events: moved });
  } catch (error) {
    log.error("usage flush failed; the events stay queued", { error });
  }
  try {
    const requeued = await withBackgroundContext({ env: check.env, log }, (ctx) => sweepDeliveries({ ctx }));
    if (requeued > 0) log.warn("webhook deliveries requeued", { deliveries: requeued });
  } catch (error) {
    log.error("webhook sweep failed; the next minute tries again", { error });
  }
  try {
    const requeued = await withBackgroundContext({ env: check.env, log }, (ctx) => sweepJobs({ ctx }));
    if (requeued > 0) log.warn("jobs requeued", { jobs: requeued });
  } catch (error) {
    log.error("job sweep failed; the next minute tries again", { error });
  }
};
