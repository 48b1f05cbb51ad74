import type { Env } from "../../env.js";
import type { Logger } from "../../lib/log.js";
import type { Redis } from "../redis.js";
import { createOutboxSender } from "./outbox.js";
import { createSesSender } from "./ses.js";
import type { EmailSender } from "./types.js";

/**
 * The mailer the settings ask for: SES when `EMAIL_PROVIDER=ses` (with `EMAIL_FROM` and the AWS settings),
 * otherwise the outbox.
 * @example
 * await createEmailSender({ env, redis, log }).send({ to, subject, text, kind: "password_reset" });
 */
export const createEmailSender = ({ env, redis, log }: { env: Env; redis: Redis; log: Logger }): EmailSender => {
  if (env.EMAIL_PROVIDER === "ses") {
    if (!env.EMAIL_FROM || !env.AWS_REGION || !env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) {
      throw new Error("EMAIL_PROVIDER=ses needs EMAIL_FROM, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
    return createSesSender({
      region: env.AWS_REGION,
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      from: env.EMAIL_FROM,
      endpoint: env.SES_ENDPOINT,
    });
  }
  return createOutboxSender({ redis, log, environment: env.ENVIRONMENT });
};

export type { EmailMessage, EmailSender } from "./types.js";
