// The buttons of a queued job's page (an extraction job, a research session): cancel, retry and export, as
// one mutation that refreshes the job's cache entries afterwards.
import { type QueryKey, useMutation, useQueryClient } from "@tanstack/react-query";
import { downloadFile } from "./files";

export type JobAction = "cancel" | "retry" | { format: string };

export const useJobActions = ({
  id,
  base,
  cancel,
  retry,
  invalidate,
}: {
  id: string;
  /** The job's path under the API (`/extraction/jobs/ext_…`), where `/export` lives. */
  base: string;
  cancel: () => Promise<unknown>;
  retry: () => Promise<unknown>;
  invalidate: QueryKey;
}) => {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (action: JobAction) => {
      if (action === "cancel") await cancel();
      else if (action === "retry") await retry();
      else await downloadFile(`${base}/export?format=${action.format}`, `${id}.${action.format}`);
    },
    onSuccess: () => client.invalidateQueries({ queryKey: invalidate }),
  });
};
