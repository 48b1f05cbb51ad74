import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import type { EmailSender } from "./types.js";

/**
 * Amazon SES (v2 API) through the official SDK. `endpoint` points it elsewhere (tests use a local server that
 * speaks SES's wire protocol).
 * @example
 * const sender = createSesSender({ region: "eu-west-1", accessKeyId, secretAccessKey, from: "APE <no-reply@ape.dev>" });
 */
export const createSesSender = (options: {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  from: string;
  endpoint?: string | undefined;
}): EmailSender => {
  const client = new SESv2Client({
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    maxAttempts: 3,
    // Without a timeout a hanging SES would hold the send for as long as it hangs.
    requestHandler: { requestTimeout: 5_000 },
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  return {
    id: "ses",
    async send(message) {
      try {
        const result = await client.send(
          new SendEmailCommand({
            FromEmailAddress: options.from,
            Destination: { ToAddresses: [message.to] },
            Content: {
              Simple: {
                Subject: { Data: message.subject, Charset: "UTF-8" },
                Body: {
                  Text: { Data: message.text, Charset: "UTF-8" },
                  ...(message.html ? { Html: { Data: message.html, Charset: "UTF-8" } } : {}),
                },
              },
            },
          }),
        );
        return { messageId: result.MessageId ?? "" };
      } catch (error) {
        // SES's errors carry their code as the name and its explanation as the message; transport failures (a
        // dropped connection, a timeout) say what happened in the message. Neither contains the credentials.
        const reason =
          error instanceof Error
            ? error.message && error.message !== error.name
              ? `${error.name}: ${error.message}`
              : error.name
            : "unknown";
        throw new Error(`SES refused the mail: ${reason}`, { cause: error });
      }
    },
  };
};
