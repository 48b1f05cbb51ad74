/** Where a followed session or job is, as a progress notification says it: 0 to 100, and in words. */
export type ProgressReport = { progress: number; message: string };

/** How often a followed session or job is read again: the same pace as the research event stream's. */
export const FOLLOW_POLL_MS = 1000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });

/**
 * Reads a queued session or job again and again until it is done, the wait is over or the caller has gone,
 * reporting its progress each time it has grown (progress notifications must increase), and answers the last
 * state read. Nothing is held between reads but the request itself: the work runs in its queue, so a caller
 * that stops waiting loses nothing and can read the same state later.
 * @example
 * const last = await followUntilDone({ read: () => getSession({ ctx, id }), done, report, onProgress, waitMs: 25_000, signal });
 */
export const followUntilDone = async <T>(options: {
  read: () => Promise<T>;
  done: (value: T) => boolean;
  report: (value: T) => ProgressReport;
  onProgress: (report: ProgressReport) => Promise<void>;
  waitMs: number;
  signal: AbortSignal;
  pollMs?: number;
}): Promise<T> => {
  const until = Date.now() + options.waitMs;
  const pollMs = options.pollMs ?? FOLLOW_POLL_MS;
  let reported = -1;
  for (;;) {
    const value = await options.read();
    const report = options.report(value);
    if (report.progress > reported) {
      reported = report.progress;
      await options.onProgress(report);
    }
    const left = until - Date.now();
    if (options.done(value) || left <= 0 || options.signal.aborted) return value;
    await sleep(Math.min(pollMs, left), options.signal);
  }
};
