/**
 * When a failed delivery is tried again: the Standard Webhooks schedule (immediately, then 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 14 h, 20 h and 24 h after the previous attempt), each delay plus up to 10% jitter so many
 * endpoints failing together do not come back in step. Ten attempts span a little over three days.
 */
export const RETRY_DELAYS_SECONDS = [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400] as const;

/** Attempts a delivery makes before it is given up: one per entry of the schedule. */
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length;

/** The longest a `Retry-After` may push the next attempt out. */
const MAX_RETRY_AFTER_SECONDS = 86400;

/** An endpoint whose attempts have all failed for this long is disabled. */
export const DISABLE_AFTER_FAILING_SECONDS = 5 * 86400;

/** Statuses whose `Retry-After` is honoured. */
const HONOURS_RETRY_AFTER = new Set([429, 502, 503, 504]);

/**
 * Seconds until the attempt after attempt number `made` (1-based, counted from the start of the schedule),
 * or null when the schedule is done. `retryAfter` (seconds, already parsed) is honoured as a floor.
 * @example
 * nextDelaySeconds(1, null) // 5 to 5.5
 * nextDelaySeconds(10, null) // null: the tenth attempt was the last
 */
export const nextDelaySeconds = (made: number, retryAfter: number | null, random = Math.random) => {
  const base = RETRY_DELAYS_SECONDS[made];
  if (base === undefined) return null;
  const jittered = Math.round(base * (1 + 0.1 * random()));
  return retryAfter === null ? jittered : Math.max(jittered, Math.min(retryAfter, MAX_RETRY_AFTER_SECONDS));
};

/** A `Retry-After` header (seconds or an HTTP date) of an answer whose status honours it, in seconds. */
export const retryAfterOf = (status: number, header: string | null, now = Date.now()) => {
  if (!HONOURS_RETRY_AFTER.has(status) || !header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
};
