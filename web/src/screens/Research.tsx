import { type FormEvent, useEffect, useState } from "react";
import { API_BASE, api, type Schemas, unwrap } from "../api/client";
import { Markdown } from "../components/SafeHtml";
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
import { streamSse } from "../lib/sse";

type Session = Schemas["ResearchSession"];
const STAGES = ["queued", "planning", "searching", "reading", "ranking", "writing", "done"] as const;
const running = (s: Session) => isActive(s.status);
const domains = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((d) => d.trim())
    .filter(Boolean);

export const ResearchList = () => {
  const list = useLoad(() => unwrap(api.GET("/research/sessions", { params: { query: { limit: 50 } } })), []);
  return (
    <section className="page">
      <PageHeader title="Research">
        <a className="button" href="/research/new">
          New research
        </a>
      </PageHeader>
      <ErrorBanner error={list.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data?.items.length ? (
        <ul className="cards">
          {list.data.items.map((s) => (
            <li key={s.id} className="card">
              <a href={`/research/${s.id}`}>{s.query}</a> <StatusBadge status={s.status} />
              <p className="muted">
                {s.depth} · {s.sources.length} sources · {formatDate(s.created_at)}
              </p>
            </li>
          ))}
        </ul>
      ) : (
        <Empty>
          No research yet. <a href="/research/new">Ask a question</a>.
        </Empty>
      )}
    </section>
  );
};

export const NewResearch = () => {
  const [query, setQuery] = useState("");
  const [depth, setDepth] = useState<"quick" | "standard" | "deep">("quick");
  const [include, setInclude] = useState("");
  const [exclude, setExclude] = useState("");
  const create = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const created = await create.run(() =>
      unwrap(
        api.POST("/research/sessions", {
          body: { query, depth, include_domains: domains(include), exclude_domains: domains(exclude), fresh: false },
        }),
      ),
    );
    if (created) navigate(`/research/${(created as { id: string }).id}`);
  };
  return (
    <section className="page narrow">
      <PageHeader title="New research" />
      <form className="stack" onSubmit={submit}>
        <ErrorBanner error={create.error} />
        <label>
          Question
          <textarea required rows={3} minLength={3} value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>
        <label>
          Depth
          <select value={depth} onChange={(e) => setDepth(e.target.value as typeof depth)}>
            <option value="quick">Quick (a few sources)</option>
            <option value="standard">Standard</option>
            <option value="deep">Deep (more sources, slower)</option>
          </select>
        </label>
        <label>
          Only these domains <span className="muted">(optional, comma separated)</span>
          <input value={include} placeholder="who.int, nih.gov" onChange={(e) => setInclude(e.target.value)} />
        </label>
        <label>
          Never these domains <span className="muted">(optional)</span>
          <input value={exclude} onChange={(e) => setExclude(e.target.value)} />
        </label>
        <button type="submit" disabled={create.busy}>
          {create.busy ? "Starting…" : "Start research"}
        </button>
      </form>
    </section>
  );
};

/**
 * Links `[n]` in the report to its source in the list below, and drops the report's own trailing source list,
 * which the page shows with quotes and links of its own.
 */
const linkCitations = (report: string, count: number) =>
  report
    .replace(/\n#{1,6}\s*Sources\s*\n[\s\S]*$/, "\n")
    .replace(/\[(\d+)\](?!\()/g, (whole, n: string) =>
      Number(n) >= 1 && Number(n) <= count ? `[\\[${n}\\]](#source-${n})` : whole,
    );

export const ResearchSessionView = ({ id }: { id: string }) => {
  const session = useLoad(() => unwrap(api.GET("/research/sessions/{id}", { params: { path: { id } } })), [id], {
    // The event stream drives updates; this poll is the fallback if it drops.
    ms: 4000,
    while: running,
  });
  const action = useAction();
  const isRunning = session.data ? running(session.data) : false;

  // Live progress: every event from the session's stream reloads it.
  useEffect(() => {
    if (!isRunning) return;
    const controller = new AbortController();
    void streamSse(
      `${API_BASE}/research/sessions/${encodeURIComponent(id)}/events`,
      {},
      () => void session.reload(),
      controller.signal,
    )
      .then(() => session.reload())
      .catch(() => undefined);
    return () => controller.abort();
  }, [id, isRunning, session.reload]);

  const s = session.data;
  const stageIndex = s ? STAGES.indexOf(s.progress.stage) : 0;
  return (
    <section className="page">
      <p>
        <a href="/research">← Research</a>
      </p>
      <ErrorBanner error={session.error ?? action.error} />
      {!s ? (
        session.loading && <Loading />
      ) : (
        <>
          <PageHeader title={s.query}>
            <JobActions
              status={s.status}
              onCancel={() =>
                void action.run(async () => {
                  await unwrap(api.POST("/research/sessions/{id}/cancel", { params: { path: { id } } }));
                  await session.reload();
                })
              }
              onRetry={() =>
                void action.run(async () => {
                  await unwrap(api.POST("/research/sessions/{id}/retry", { params: { path: { id } } }));
                  await session.reload();
                })
              }
            />
          </PageHeader>
          <p>
            <StatusBadge status={s.status} /> {s.depth}
            {s.include_domains.length ? ` · only ${s.include_domains.join(", ")}` : ""}
          </p>
          <Stages stages={STAGES} current={stageIndex} completed={s.status === "completed"} />
          {running(s) && <Progress value={s.progress.percent} label="Research progress" />}
          <p className="muted" role="status">
            {s.progress.sub_questions} sub-questions · {s.progress.sources_found} sources found ·{" "}
            {s.progress.sources_read} read
            {s.progress.sources_skipped ? ` · ${s.progress.sources_skipped} skipped` : ""}
          </p>
          {s.error ? <p className="error-text">{s.error.message}</p> : null}
          {s.status === "completed" && (
            <>
              <div className="row">
                <span>Export:</span>
                {(["md", "docx", "json", "csv", "xlsx"] as const).map((format) => (
                  <button
                    key={format}
                    type="button"
                    className="secondary"
                    onClick={() =>
                      void action.run(() =>
                        downloadFile(`/research/sessions/${id}/export?format=${format}`, `${id}.${format}`),
                      )
                    }
                  >
                    {format === "md" ? "Markdown" : format.toUpperCase()}
                  </button>
                ))}
              </div>
              {(s.citation_check?.citations_removed ?? 0) > 0 && (
                <p className="hint">
                  {s.citation_check?.citations_removed} citations were removed because their sources did not support
                  them.
                </p>
              )}
              <Markdown
                className="report card"
                label="Report"
                source={linkCitations(s.report ?? "", s.sources.length)}
              />
              <h2>Sources</h2>
              {s.sources.length ? (
                <ol className="sources">
                  {s.sources.map((src) => (
                    <li key={src.n} id={`source-${src.n}`} value={src.n} tabIndex={-1}>
                      <a href={src.url} target="_blank" rel="noopener noreferrer nofollow">
                        {src.title || src.url}
                      </a>
                      <q>{src.quote}</q>
                    </li>
                  ))}
                </ol>
              ) : (
                <Empty>No sources.</Empty>
              )}
            </>
          )}
        </>
      )}
    </section>
  );
};
