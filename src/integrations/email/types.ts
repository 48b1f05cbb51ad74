/** One email APE sends (password resets, account notices). Plain text always; HTML optional. */
export type EmailMessage = {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** What kind of mail this is, e.g. "password_reset"; lets the outbox and logs tell mails apart. */
  kind: string;
};

/** Sends mail. Production: Amazon SES; development and tests: an outbox in Redis that people and tests read. */
export interface EmailSender {
  readonly id: "ses" | "outbox";
  send(message: EmailMessage): Promise<{ messageId: string }>;
}
