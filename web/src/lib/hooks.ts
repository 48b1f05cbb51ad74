import { useCallback, useEffect, useRef, useState } from "react";
import { type ProblemError, toProblem } from "../api/client";

/** Loads data, with loading and error states, and a reload. `poll` reloads every n ms while it returns true. */
export const useLoad = <T>(
  load: () => Promise<T>,
  deps: unknown[],
  poll?: { ms: number; while: (data: T) => boolean },
) => {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ProblemError | null>(null);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const pollRef = useRef(poll);
  pollRef.current = poll;
  const generation = useRef(0);

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const value = await loadRef.current();
      if (mine !== generation.current) return;
      setData(value);
      setError(null);
    } catch (e) {
      if (mine === generation.current) setError(toProblem(e));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);

  // The caller names what the load depends on, as with useEffect itself.
  const depsKey = JSON.stringify(deps);
  // biome-ignore lint/correctness/useExhaustiveDependencies: depsKey stands for the caller's dependencies
  useEffect(() => {
    setLoading(true);
    setData(undefined);
    void reload();
  }, [depsKey, reload]);

  useEffect(() => {
    if (!poll || data === undefined || !poll.while(data)) return;
    const timer = setTimeout(() => void reload(), poll.ms);
    return () => clearTimeout(timer);
  }, [data, poll, reload]);

  return { data, error, loading, reload, setData };
};

/** Runs an action with a busy flag and its error kept for display. */
export const useAction = () => {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ProblemError | null>(null);
  const run = useCallback(async <T>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (e) {
      setError(toProblem(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
};
