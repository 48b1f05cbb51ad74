import type { Redis } from "@upstash/redis/cloudflare";
import type { Logger } from "../../lib/log.js";
import type { EmailMessage, EmailSender } from "./types.js";

const KEEP = 50;
const TTL_SECONDS = 24 * 60 * 60;
const outboxKey = (to: string) => `outbox:${to.trim().toLowerCase()}`;

export type OutboxMail = EmailMessage & { id: string; sentAt: string };

/**
 * The development and test mailer: mail is kept in Redis (the newest 50 per recipient, for a day) where tests
 * and the person running `npm start` can read it. In development the mail is also printed to the log, since
 * there it is the only way to see a reset link; elsewhere the log names the mail but never its body.
 * @example
 * const sender = createOutboxSender({ redis, log, environment: "development" });
 */
export const createOutboxSender = (options: { redis: Redis; log: Logger; environment: string }): EmailSender => ({
  id: "outbox",
  async send(message) {
    const mail: OutboxMail = { ...message, id: `mail_${crypto.randomUUID()}`, sentAt: new Date().toISOString() };
    const key = outboxKey(message.to);
    await options.redis
      .pipeline()
      .lpush(key, mail)
      .ltrim(key, 0, KEEP - 1)
      .expire(key, TTL_SECONDS)
      .exec();
    if (options.environment === "development") {
      options.log.info("mail kept in the development outbox", {
        mailTo: message.to,
        subject: message.subject,
        text: message.text,
      });
    } else {
      options.log.info("mail kept in the outbox", { kind: message.kind, mailId: mail.id });
    }
    return { messageId: mail.id };
  },
});

/** The mail kept for one recipient, newest first. */
export const readOutbox = async ({ redis, to }: { redis: Redis; to: string }) =>
  redis.lrange<OutboxMail>(outboxKey(to), 0, KEEP - 1);
