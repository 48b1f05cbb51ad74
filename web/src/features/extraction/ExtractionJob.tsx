import { useState } from "react";
import { api, unwrap } from "../../api/client";
import { JobPage } from "../../components/pages";
import { Empty, ErrorBanner, Loading, Progress, Stages } from "../../components/ui";
import { useJobActions } from "../../lib/job-actions";
import { keys } from "../../lib/query";
import { running, useExtractionJob, useExtractionRows, useJobTitle } from "./queries";

const STAGES = ["queued", "fetching", "extracting", "validating", "writing", "done"] as const;

const formatCell = (value: unknown) =>
  value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);

export const ExtractionJob = ({ id }: { id: string }) => {
  const job = useExtractionJob(id);
  const titleOf = useJobTitle();
  const done = job.data?.status === "completed";
  const [filter, setFilter] = useState<"all" | "true" | "false">("all");
  const rows = useExtractionRows(id, filter, done);
  const act = useJobActions({
    id,
    base: `/extraction/jobs/${id}`,
    cancel: () => unwrap(api.POST("/extraction/jobs/{id}/cancel", { params: { path: { id } } })),
    retry: () => unwrap(api.POST("/extraction/jobs/{id}/retry", { params: { path: { id } } })),
    invalidate: keys.extraction.all,
  });
  const stageIndex = job.data ? STAGES.indexOf(job.data.progress.stage) : 0;
  return (
    <JobPage
      back="/extraction"
      backLabel="Extraction"
      job={job.data}
      error={job.error ?? act.error}
      title={titleOf}
      detail={(j) => (j.source_type === "document" ? "document" : j.source_url)}
      onCancel={() => act.mutate("cancel")}
      onRetry={() => act.mutate("retry")}
    >
      {(j) => (
        <>
          <Stages stages={STAGES} current={stageIndex} completed={j.status === "completed"} />
          {running(j) && (
            <Progress
              value={
                j.progress.pages_total
                  ? (100 * j.progress.pages_fetched) / j.progress.pages_total
                  : (100 * stageIndex) / (STAGES.length - 1)
              }
              label="Extraction progress"
            />
          )}
          <p className="muted" role="status">
            {j.progress.pages_fetched} pages read · {j.rows_extracted || j.progress.rows_so_far} rows · {j.rows_valid}{" "}
            valid
          </p>
          {j.error ? <p className="error-text">{j.error.message}</p> : null}
          {done && (
            <>
              <div className="row">
                <span>Export:</span>
                {(["csv", "json", "xlsx"] as const).map((format) => (
                  <button key={format} type="button" className="secondary" onClick={() => act.mutate({ format })}>
                    {format.toUpperCase()}
                  </button>
                ))}
                <label>
                  Show
                  <select value={filter} onChange={(e) => setFilter(e.target.value as typeof filter)}>
                    <option value="all">all rows</option>
                    <option value="true">valid rows</option>
                    <option value="false">invalid rows</option>
                  </select>
                </label>
              </div>
              <ErrorBanner error={rows.error} />
              {rows.isPending ? (
                <Loading label="Loading rows…" />
              ) : rows.data?.items.length ? (
                <div className="table-wrap">
                  <table className="results">
                    <caption className="visually-hidden">Extracted rows</caption>
                    <thead>
                      <tr>
                        <th scope="col">#</th>
                        {j.schema.columns.map((c) => (
                          <th key={c.name} scope="col">
                            {c.name}
                          </th>
                        ))}
                        <th scope="col">Source</th>
                      </tr>
                    </thead>
                    <tbody>
                      {rows.data.items.map((r) => {
                        const values = r.values as Record<string, unknown>;
                        return (
                          <tr key={r.row} className={r.valid ? "" : "invalid-row"}>
                            <th scope="row">{r.row + 1}</th>
                            {j.schema.columns.map((c) => {
                              const errors = r.errors.filter((e) => e.column === c.name);
                              return (
                                <td
                                  key={c.name}
                                  className={errors.length ? "invalid" : undefined}
                                  aria-invalid={errors.length ? true : undefined}
                                >
                                  {formatCell(values[c.name])}
                                  {errors.map((e) => (
                                    <span key={e.rule} className="cell-error">
                                      <span aria-hidden="true">⚠ </span>
                                      {e.message}
                                    </span>
                                  ))}
                                </td>
                              );
                            })}
                            <td className="muted">
                              {r.provenance.page ? `p. ${r.provenance.page}` : r.provenance.source}
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </div>
              ) : (
                <Empty>No rows{filter !== "all" ? " of this kind" : ""}.</Empty>
              )}
            </>
          )}
        </>
      )}
    </JobPage>
  );
};
