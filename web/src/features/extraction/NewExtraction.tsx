import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, type Schemas, unwrap } from "../../api/client";
import { ErrorBanner, PageHeader } from "../../components/ui";
import { keys } from "../../lib/query";
import { navigate } from "../../lib/router";
import { useDocuments } from "../documents/queries";

type Column = Schemas["ExtractionColumn"];
type Rules = Schemas["ColumnRules"];
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
/** A min or max rule as typed: empty is none, a number is a number, anything else (a date) stays text. */
const boundOf = (text: string) => (text === "" ? undefined : Number.isNaN(Number(text)) ? text : Number(text));

type ColumnDraft = Column & { rules: Rules };

export const NewExtraction = () => {
  const docs = useDocuments();
  const client = useQueryClient();
  const [sourceType, setSourceType] = useState<"document" | "web_single" | "web_crawl">("document");
  const [documentId, setDocumentId] = useState("");
  const [url, setUrl] = useState("");
  const [maxPages, setMaxPages] = useState(10);
  const [columns, setColumns] = useState<ColumnDraft[]>([{ name: "", type: "string", required: false, rules: {} }]);
  const [detectNote, setDetectNote] = useState<string | null>(null);
  const detect = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/extraction/schema/detect", {
          body: sourceType === "document" ? { document_id: chosenDoc } : { url },
        }),
      ),
    onSuccess: (result) => {
      setColumns(result.suggested_schema.columns.map((c) => ({ ...c, rules: {} })));
      setDetectNote(
        `Detected ${result.detected_content_type} (${Math.round(result.confidence * 100)}% sure, by ${result.method}): ${result.suggested_schema.columns.length} columns.`,
      );
    },
  });
  const create = useMutation({
    mutationFn: (body: Schemas["CreateExtractionJob"]) => unwrap(api.POST("/extraction/jobs", { body })),
    onSuccess: (job) => {
      void client.invalidateQueries({ queryKey: keys.extraction.list });
      navigate(`/extraction/${(job as { id: string }).id}`);
    },
  });
  const readyDocs = docs.data?.items.filter((d) => d.status === "ready") ?? [];
  const chosenDoc = documentId || readyDocs[0]?.id || "";

  const update = (i: number, patch: Partial<ColumnDraft>) =>
    setColumns((cols) => cols.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  const updateRules = (i: number, patch: Partial<Rules>) =>
    setColumns((cols) => cols.map((c, j) => (j === i ? { ...c, rules: { ...c.rules, ...patch } } : c)));

  const autoDetect = () => detect.mutate();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const cols = columns.filter((c) => c.name.trim());
    const rules: Record<string, Rules> = {};
    for (const c of cols) {
      const r = Object.fromEntries(
        Object.entries(c.rules).filter(([, v]) => v !== "" && v !== undefined && v !== false),
      );
      if (Object.keys(r).length) rules[c.name] = r as Rules;
    }
    create.mutate({
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
    });
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
                {docs.isPending ? (
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
            <button type="button" className="secondary" onClick={() => autoDetect()} disabled={detect.isPending}>
              {detect.isPending ? "Detecting…" : "Auto-detect columns"}
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
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? "Starting…" : "Start extraction"}
        </button>
      </form>
    </section>
  );
};
