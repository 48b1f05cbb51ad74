import { ApplyGuardrailCommand, BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";

/** What a guardrail said about some text. */
export type GuardrailVerdict = { blocked: false } | { blocked: true; message: string };

/** A Bedrock guardrail applied to text, on the way in (`INPUT`) or out (`OUTPUT`). */
export type Guardrail = {
  check(source: "INPUT" | "OUTPUT", texts: string[], signal?: AbortSignal): Promise<GuardrailVerdict>;
};

const TIMEOUT_MS = 10_000;

/**
 * Bedrock Guardrails through ApplyGuardrail, independent of which provider answers: input is checked before
 * any model sees it, output before the caller does. A guardrail that cannot be reached throws (callers fail
 * closed: a configured safety check is never skipped silently).
 * @example
 * const verdict = await guardrail.check("INPUT", ["user text"]);
 */
export const createBedrockGuardrail = (options: {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  endpoint?: string | undefined;
  guardrailId: string;
  guardrailVersion: string;
}): Guardrail => {
  const client = new BedrockRuntimeClient({
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    maxAttempts: 2,
    requestHandler: new FetchHttpHandler({ requestTimeout: TIMEOUT_MS }),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  return {
    async check(source, texts, signal) {
      const content = texts.filter((text) => text.trim() !== "").map((text) => ({ text: { text } }));
      if (content.length === 0) return { blocked: false };
      const result = await client.send(
        new ApplyGuardrailCommand({
          guardrailIdentifier: options.guardrailId,
          guardrailVersion: options.guardrailVersion,
          source,
          content,
        }),
        signal ? { abortSignal: signal } : {},
      );
      if (result.action !== "GUARDRAIL_INTERVENED") return { blocked: false };
      const message = (result.outputs ?? [])
        .map((output) => output.text ?? "")
        .join("\n")
        .trim();
      return { blocked: true, message: message || "The content was blocked by a guardrail." };
    },
  };
};
