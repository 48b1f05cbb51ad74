import type { ProviderId } from "./types.js";

/** Why a provider call failed, as far as routing cares. */
export type FailureKind =
  | "timeout"
  | "network"
  | "rate_limited"
  | "server"
  | "auth"
  | "refused"
  | "client"
  | "malformed";

/** Kinds worth another try (here, or at the next provider) and that count against the circuit breaker. */
const TRANSIENT: ReadonlySet<FailureKind> = new Set(["timeout", "network", "rate_limited", "server", "malformed"]);

/**
 * A provider call that failed, classified. `message` is the provider's own short message, never a key or URL
 * with credentials; it is shown to callers in 502 `ALL_PROVIDERS_FAILED`, or as the detail of 400
 * `PROVIDER_REJECTED_REQUEST` when the provider refused the request itself (`refused`). `param` is the request
 * field the provider named, when it named one.
 */
export class ProviderFailure extends Error {
  readonly provider: ProviderId;
  readonly kind: FailureKind;
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  readonly param: string | null;

  constructor(options: {
    provider: ProviderId;
    kind: FailureKind;
    message: string;
    status?: number | null;
    retryAfterMs?: number | null;
    param?: string | null;
    cause?: unknown;
  }) {
    super(options.message.slice(0, 300), { cause: options.cause });
    this.name = "ProviderFailure";
    this.provider = options.provider;
    this.kind = options.kind;
    this.status = options.status ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.param = options.param ?? null;
  }

  get transient() {
    return TRANSIENT.has(this.kind);
  }
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from now. */
export const parseRetryAfter = (value: string | null | undefined): number | null => {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
};

/**
 * Statuses by which a provider refuses the request itself (a field its model cannot take, a body it finds
 * invalid or too large): the caller's to change, so they are passed on as 400, never retried as transient.
 */
const REFUSALS: ReadonlySet<number> = new Set([400, 413, 415, 422]);

/** The kind a status code means. */
export const kindOfStatus = (status: number): FailureKind => {
  if (status === 429) return "rate_limited";
  if (status === 408 || status === 504) return "timeout";
  if (status >= 500) return "server";
  if (status === 401 || status === 403) return "auth";
  if (REFUSALS.has(status)) return "refused";
  return "client";
};
