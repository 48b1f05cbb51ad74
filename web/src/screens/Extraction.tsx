import { type FormEvent, useState } from "react";
import { api, type Schemas, unwrap } from "../api/client";
import {
  Empty,
  ErrorBanner,
  formatDate,
  isActive,
  JobActions,
  Loading,
  PageHeader,
  Progress,
  Stages,
  StatusBadge,
} from "../components/ui";
import { downloadFile } from "../lib/files";
import { useAction, useLoad } from "../lib/hooks";
import { navigate } from "../lib/router";

type Column = Schemas["ExtractionColumn"];
type Rules = Schemas["ColumnRules"];
type Job = Schemas["ExtractionJob"];
const TYPES: Column["type"][] = [
  "string",
  "number",
  "integer",
  "boolean",
  "date",
  "datetime",
  "url",
  "email",
  "currency",
  "enum",
];
const running = (j: Job) => isActive(j.status);
/** A min or max rule as typed: empty is none, a number is a number, anything else (a date) stays text. */
const boundOf = (text: string) => (text === "" ? undefined : Number.isNaN(Number(text)) ? text : Number(text));
const STAGES = ["queued", "fetching", "extracting", "validating", "writing", "done"] as const;

export const ExtractionList = () => {
  const list = useLoad(() => unwrap(api.GET("/extraction/jobs", { params: { query: { limit: 50 } } })), [], {
    ms: 2000,
    while: (p) => p.items.some(running),
  });
  return (
    <section className="page">
      <PageHeader title="Extraction">
        <a className="button" href="/extraction/new">
          New extraction
        </a>
      </PageHeader>
      <ErrorBanner error={list.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data?.items.length ? (
        <ul className="cards">
          {list.data.items.map((j) => (
            <li key={j.id} className="card">
              <a href={`/extraction/${j.id}`}>
                {j.source_type === "document" ? `Document ${j.document_id}` : j.source_url}
              </a>{" "}
              <StatusBadge status={j.status} />
              <p className="muted">
                {j.schema.columns.length} columns · {j.rows_extracted} rows ({j.rows_valid} valid) ·{" "}
                {formatDate(j.created_at)}
              </p>
            </li>
          ))}
        </ul>
      ) : (
        <Empty>
          No extraction jobs yet. <a href="/extraction/new">Start one</a>.
        </Empty>
      )}
    </section>
  );
};

type ColumnDraft = Column & { rules: Rules };

export const NewExtraction = () => {
  const docs = useLoad(() => unwrap(api.GET("/documents", { params: { query: { limit: 100 } } })), []);
  const [sourceType, setSourceType] = useState<"document" | "web_single" | "web_crawl">("document");
  const [documentId, setDocumentId] = useState("");
  const [url, setUrl] = useState("");
  const [maxPages, setMaxPages] = useState(10);
  const [columns, setColumns] = useState<ColumnDraft[]>([{ name: "", type: "string", required: false, rules: {} }]);
  const [detectNote, setDetectNote] = useState<string | null>(null);
  const detect = useAction();
  const create = useAction();
  const readyDocs = docs.data?.items.filter((d) => d.status === "ready") ?? [];
  const chosenDoc = documentId || readyDocs[0]?.id || "";

  const update = (i: number, patch: Partial<ColumnDraft>) =>
    setColumns((cols) => cols.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  const updateRules = (i: number, patch: Partial<Rules>) =>
    setColumns((cols) => cols.map((c, j) => (j === i ? { ...c, rules: { ...c.rules, ...patch } } : c)));

  const autoDetect = async () => {
    const result = await detect.run(() =>
      unwrap(
        api.POST("/extraction/schema/detect", {
          body: sourceType === "document" ? { document_id: chosenDoc } : { url },
        }),
      ),
    );
    if (result) {
      setColumns(result.suggested_schema.columns.map((c) => ({ ...c, rules: {} })));
      setDetectNote(
        `Detected ${result.detected_content_type} (${Math.round(result.confidence * 100)}% sure, by ${result.method}): ${result.suggested_schema.columns.length} columns.`,
      );
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const cols = columns.filter((c) => c.name.trim());
    const rules: Record<string, Rules> = {};
    for (const c of cols) {
      const r = Object.fromEntries(
        Object.entries(c.rules).filter(([, v]) => v !== "" && v !== undefined && v !== false),
      );
      if (Object.keys(r).length) rules[c.name] = r as Rules;
    }
    const job = await create.run(() =>
      unwrap(
        api.POST("/extraction/jobs", {
          body: {
            source_type: sourceType,
            ...(sourceType === "document" ? { document_id: chosenDoc } : { source_url: url }),
            ...(sourceType === "web_crawl" ? { crawl: { max_pages: maxPages } as Schemas["CrawlBounds"] } : {}),
            schema: {
              columns: cols.map(({ rules: _r, ...c }) => ({
                ...c,
                description: c.description || undefined,
                values: c.type === "enum" ? c.values : undefined,
              })),
            },
            validation_rules: rules,
            output_format: "csv",
          },
        }),
      ),
    );
    if (job) navigate(`/extraction/${(job as { id: string }).id}`);
  };

  return (
    <section className="page">
      <PageHeader title="New extraction" />
      <form className="stack" onSubmit={submit}>
        <ErrorBanner error={create.error ?? docs.error} />
        <fieldset>
          <legend>Source</legend>
          <div className="row">
            {(
              [
                ["document", "An uploaded document"],
                ["web_single", "One web page"],
                ["web_crawl", "A website (crawl)"],
              ] as const
            ).map(([value, label]) => (
              <label key={value} className="check">
                <input
                  type="radio"
                  name="source"
                  checked={sourceType === value}
                  onChange={() => setSourceType(value)}
                />
                {label}
              </label>
            ))}
          </div>
          {sourceType === "document" ? (
            readyDocs.length ? (
              <label>
                Document
                <select value={chosenDoc} onChange={(e) => setDocumentId(e.target.value)}>
                  {readyDocs.map((d) => (
                    <option key={d.id} value={d.id}>
                      {d.filename}
                    </option>
                  ))}
                </select>
              </label>
            ) : (
              <p className="muted">
                {docs.loading ? (
                  "Loading documents…"
                ) : (
                  <>
                    No ready documents. <a href="/documents">Upload one</a> first.
                  </>
                )}
              </p>
            )
          ) : (
            <label>
              URL
              <input
                type="url"
                required
                placeholder="https://example.com/products"
                value={url}
                onChange={(e) => setUrl(e.target.value)}
              />
            </label>
          )}
          {sourceType === "web_crawl" && (
            <label>
              Pages at most
              <input
                type="number"
                min={1}
                max={100}
                value={maxPages}
                onChange={(e) => setMaxPages(Number(e.target.value))}
              />
            </label>
          )}
        </fieldset>
        <fieldset>
          <legend>Columns</legend>
          <div className="row">
            <button type="button" className="secondary" onClick={() => void autoDetect()} disabled={detect.busy}>
              {detect.busy ? "Detecting…" : "Auto-detect columns"}
            </button>
            {detectNote && (
              <span role="status" className="muted">
                {detectNote}
              </span>
            )}
          </div>
          <ErrorBanner error={detect.error} />
          <div className="table-wrap">
            <table className="schema-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Required</th>
                  <th scope="col">Description</th>
                  <th scope="col">Pattern</th>
                  <th scope="col">Min</th>
                  <th scope="col">Max</th>
                  <th scope="col">Unique</th>
                  <th scope="col">
                    <span className="visually-hidden">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {columns.map((c, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: rows are edited in place and have no id
                  <tr key={i}>
                    <td>
                      <input
                        aria-label={`Column ${i + 1} name`}
                        value={c.name}
                        onChange={(e) => update(i, { name: e.target.value })}
                      />
                    </td>
                    <td>
                      <select
                        aria-label={`Column ${i + 1} type`}
                        value={c.type}
                        onChange={(e) => update(i, { type: e.target.value as Column["type"] })}
                      >
                        {TYPES.map((t) => (
                          <option key={t}>{t}</option>
                        ))}
                      </select>
                      {c.type === "enum" && (
                        <input
                          aria-label={`Column ${i + 1} allowed values, comma separated`}
                          placeholder="a, b, c"
                          value={(c.values ?? []).join(", ")}
                          onChange={(e) =>
                            update(i, {
                              values: e.target.value
                                .split(",")
                                .map((v) => v.trim())
                                .filter(Boolean),
                            })
                          }
                        />
                      )}
                    </td>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Column ${i + 1} required`}
                        checked={Boolean(c.required)}
                        onChange={(e) => update(i, { required: e.target.checked })}
                      />
                    </td>
                    <td>
                      <input
                        aria-label={`Column ${i + 1} description`}
                        value={c.description ?? ""}
                        onChange={(e) => update(i, { description: e.target.value })}
                      />
                    </td>
                    <td>
                      <input
                        aria-label={`Column ${i + 1} pattern`}
                        placeholder="^[A-Z]+$"
                        value={c.rules.pattern ?? ""}
                        onChange={(e) => updateRules(i, { pattern: e.target.value || undefined })}
                      />
                    </td>
                    <td>
                      <input
                        aria-label={`Column ${i + 1} minimum`}
                        className="narrow-input"
                        value={String(c.rules.min ?? "")}
                        onChange={(e) => updateRules(i, { min: boundOf(e.target.value) })}
                      />
                    </td>
                    <td>
                      <input
                        aria-label={`Column ${i + 1} maximum`}
                        className="narrow-input"
                        value={String(c.rules.max ?? "")}
                        onChange={(e) => updateRules(i, { max: boundOf(e.target.value) })}
                      />
                    </td>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Column ${i + 1} unique`}
                        checked={Boolean(c.rules.unique)}
                        onChange={(e) => updateRules(i, { unique: e.target.checked || undefined })}
                      />
                    </td>
                    <td>
                      <button
                        type="button"
                        className="link"
                        aria-label={`Remove column ${i + 1}`}
                        onClick={() => setColumns((cols) => cols.filter((_, j) => j !== i))}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <button
            type="button"
            className="secondary"
            onClick={() => setColumns((cols) => [...cols, { name: "", type: "string", required: false, rules: {} }])}
          >
            Add column
          </button>
        </fieldset>
        <button type="submit" disabled={create.busy}>
          {create.busy ? "Starting…" : "Start extraction"}
        </button>
      </form>
    </section>
  );
};

const formatCell = (value: unknown) =>
  value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);

export const ExtractionJob = ({ id }: { id: string }) => {
  const job = useLoad(() => unwrap(api.GET("/extraction/jobs/{id}", { params: { path: { id } } })), [id], {
    ms: 1000,
    while: running,
  });
  const done = job.data?.status === "completed";
  const [filter, setFilter] = useState<"all" | "true" | "false">("all");
  const rows = useLoad(
    async () =>
      done
        ? unwrap(
            api.GET("/extraction/jobs/{id}/rows", {
              params: { path: { id }, query: { limit: 500, valid: filter === "all" ? undefined : filter } },
            }),
          )
        : null,
    [id, done, filter],
  );
  const action = useAction();
  const j = job.data;
  const stageIndex = j ? STAGES.indexOf(j.progress.stage) : 0;
  return (
    <section className="page">
      <p>
        <a href="/extraction">← Extraction</a>
      </p>
      <ErrorBanner error={job.error ?? action.error} />
      {!j ? (
        job.loading && <Loading />
      ) : (
        <>
          <PageHeader title={`Extraction ${j.id}`}>
            <JobActions
              status={j.status}
              onCancel={() =>
                void action.run(async () => {
                  await unwrap(api.POST("/extraction/jobs/{id}/cancel", { params: { path: { id } } }));
                  await job.reload();
                })
              }
              onRetry={() =>
                void action.run(async () => {
                  await unwrap(api.POST("/extraction/jobs/{id}/retry", { params: { path: { id } } }));
                  await job.reload();
                })
              }
            />
          </PageHeader>
          <p>
            <StatusBadge status={j.status} />{" "}
            {j.source_type === "document" ? `document ${j.document_id}` : j.source_url}
          </p>
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
                  <button
                    key={format}
                    type="button"
                    className="secondary"
                    onClick={() =>
                      void action.run(() =>
                        downloadFile(`/extraction/jobs/${id}/export?format=${format}`, `${id}.${format}`),
                      )
                    }
                  >
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
              {rows.loading ? (
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
                            <th scope="row">{r.row}</th>
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
    </section>
  );
};
