/**
 * What handling one queue message came to, for the consumer to `ack()` or `retry()`: done (`status` says how),
 * or failed and worth another delivery after `retryAfterSeconds`. A job that moved on to its next slice is
 * `ok` with status `sliced`: its message is acknowledged and the next slice has a message of its own.
 * @example
 * const outcome: JobOutcome = { ok: false, error: "Firecrawl is busy", retryAfterSeconds: 40 };
 */
export type JobOutcome =
  | {
      ok: true;
      status?: "completed" | "ready" | "failed" | "cancelled" | "skipped" | "sliced" | (string & {});
    }
  | { ok: false; error: string; retryAfterSeconds?: number };

/**
 * Why a job failed, kept on its row so the owner can read it and retry: a stable `code`, a message for people,
 * and whether the same run may fare better later.
 * @example
 * const failure: JobFailure = { code: "SOURCE_UNAVAILABLE", message: "The page answered HTTP 404.", retryable: false };
 */
export type JobFailure = { code: string; message: string; retryable: boolean };

/**
 * A failure a job's own code decides on (the source answered 404, say), thrown and turned into its
 * {@link JobFailure} by the lease runner.
 * @example
 * throw new JobError("SOURCE_UNAVAILABLE", "https://example.com/ answered HTTP 404 Not Found.", false);
 */
export class JobError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable = false) {
    super(message);
    this.name = "JobError";
    this.code = code;
    this.retryable = retryable;
  }
}

/** The run stops here: the job was cancelled, deleted or taken over by another run, which owns it now. */
export class LostHold extends Error {
  constructor() {
    super("the run no longer holds the job");
    this.name = "LostHold";
  }
}
