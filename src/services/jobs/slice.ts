import type { Env } from "../../env.js";

/**
 * What one slice of a job may spend: `JOB_SLICE_SECONDS` of wall time and `JOB_SLICE_SUBREQUESTS` outgoing
 * requests (a consumer invocation has 15 minutes and 10,000 subrequests, shared by its batch). Jobs count the
 * requests they make with `spend` and ask `over()` between units of work (a page, a batch of chunks, a
 * source, a section). A slice is over only once it has spent something, so every slice moves its job on.
 * @example
 * const slice = createSliceBudget(ctx.env);
 * slice.spend(2); // one Firecrawl read, one R2 write
 * if (slice.over()) return { next: checkpoint };
 */
export type SliceBudget = {
  /** Counts `requests` outgoing requests (default 1) against the slice. */
  spend: (requests?: number) => void;
  /**
   * Whether the slice has used its time or its requests (and done some work: a slice that spent nothing is
   * never over), so the job should checkpoint and hand off.
   */
  over: () => boolean;
  /** What the slice has used so far. */
  used: () => { seconds: number; subrequests: number };
};

export const createSliceBudget = (
  env: Pick<Env, "JOB_SLICE_SECONDS" | "JOB_SLICE_SUBREQUESTS">,
  now: () => number = Date.now,
): SliceBudget => {
  const started = now();
  let subrequests = 0;
  return {
    spend: (requests = 1) => {
      subrequests += requests;
    },
    // A slice that has spent nothing has done nothing yet: it is never over, so every slice moves its job on.
    over: () =>
      subrequests > 0 && (now() - started >= env.JOB_SLICE_SECONDS * 1000 || subrequests >= env.JOB_SLICE_SUBREQUESTS),
    used: () => ({ seconds: (now() - started) / 1000, subrequests }),
  };
};
