import { useCallback, useState } from "react";
import { type ProblemError, toProblem } from "../api/client";

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
