import { EmbeddingFailure } from "../../integrations/embeddings.js";
import { FirecrawlFailure } from "../../integrations/firecrawl.js";
import { SafeFetchError } from "../../integrations/safe-fetch.js";
import { TextractFailure } from "../../integrations/textract.js";
import { WebReadError } from "../../integrations/web-reader.js";
import { ApiError } from "../../lib/errors.js";
import { DocumentError } from "../documents/extract/errors.js";
import { JobError, type JobFailure } from "./outcome.js";

/**
 * The one mapping of what a job may throw to its {@link JobFailure}. Anything unknown is `crashedCode`
 * (logged with its stack by the runner) and retryable.
 * @example
 * const failure = failureOf(error, "EXTRACTION_CRASHED"); // { code: "FIRECRAWL_RATE_LIMITED", …, retryable: true }
 */
export const failureOf = (error: unknown, crashedCode: string): JobFailure => {
  if (error instanceof JobError) return { code: error.code, message: error.message, retryable: error.retryable };
  if (error instanceof ApiError) {
    // A model that answered garbage may answer well next time: the owner can retry, the queue does not.
    const retryable = error.code === "NOT_READY" || error.code === "ALL_PROVIDERS_FAILED";
    return { code: error.code, message: error.message, retryable };
  }
  if (error instanceof DocumentError) return { code: error.code, message: error.message, retryable: error.retryable };
  if (error instanceof SafeFetchError) {
    return { code: `FETCH_${error.code}`, message: error.message, retryable: error.retryable };
  }
  if (error instanceof WebReadError) {
    return { code: `FETCH_${error.reason.toUpperCase()}`, message: error.message, retryable: error.retryable };
  }
  if (error instanceof FirecrawlFailure) {
    return { code: `FIRECRAWL_${error.code}`, message: error.message, retryable: error.retryable };
  }
  if (error instanceof TextractFailure) {
    return { code: `OCR_${error.code}`, message: `OCR failed: ${error.message}`, retryable: error.retryable };
  }
  if (error instanceof EmbeddingFailure) {
    return { code: "EMBEDDING_FAILED", message: `Embedding failed: ${error.message}`, retryable: error.retryable };
  }
  return { code: crashedCode, message: "The job stopped unexpectedly; it is retried.", retryable: true };
};

/** How long a service asked to be left alone, in seconds, when the error says (Firecrawl's Retry-After). */
export const hintedWaitOf = (error: unknown) =>
  error instanceof FirecrawlFailure ? (error.retryAfterSeconds ?? 0) : 0;

/**
 * The backoff before delivery `attempts + 1`: 10 s, 20 s, 40 s … up to 5 minutes, or longer if the service
 * asked for longer.
 */
export const backoffSeconds = (attempts: number, hintedSeconds = 0) =>
  Math.max(hintedSeconds, Math.min(300, 5 * 2 ** attempts));
