import { api, unwrap } from "../../api/client";
import { JobPage } from "../../components/pages";
import { Markdown } from "../../components/SafeHtml";
import { Empty, Progress, Stages } from "../../components/ui";
import { useJobActions } from "../../lib/job-actions";
import { keys } from "../../lib/query";
import { hostOf } from "../../lib/url";
import { type ResearchLog, running, useResearchEvents, useResearchSession } from "./queries";

const STAGES = ["queued", "planning", "searching", "reading", "ranking", "writing", "done"] as const;

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

/** The research as it happens: its sub-questions, each source as found and read (or skipped), each section. */
const LiveLog = ({ log }: { log: ResearchLog }) =>
  log.subQuestions.length || log.sources.length ? (
    <div className="research-log">
      {log.subQuestions.length > 0 && (
        <section aria-label="Plan" className="card">
          <h2>Plan</h2>
          <ol>
            {log.subQuestions.map((q) => (
              <li key={q}>{q}</li>
            ))}
          </ol>
        </section>
      )}
      {log.sources.length > 0 && (
        <section aria-label="Sources as they are read" className="card">
          <h2>Sources</h2>
          <ul className="source-log">
            {log.sources.map((s) => (
              <li key={s.url} className={`source-${s.state}`}>
                <span className={`badge status-${s.state}`}>{s.state}</span> {s.title ?? hostOf(s.url)}{" "}
                <span className="muted">{s.state === "skipped" ? s.reason : hostOf(s.url)}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      {log.sections.length > 0 && (
        <section aria-label="Sections written" className="card">
          <h2>Writing</h2>
          <ol>
            {log.sections.map((s) => (
              <li key={s.index}>
                {s.question} <span className="muted">({s.citations} citations)</span>
              </li>
            ))}
          </ol>
        </section>
      )}
    </div>
  ) : null;

export const ResearchSession = ({ id }: { id: string }) => {
  const session = useResearchSession(id);
  const s = session.data;
  const log = useResearchEvents(id, Boolean(s));
  const act = useJobActions({
    id,
    base: `/research/sessions/${id}`,
    cancel: () => unwrap(api.POST("/research/sessions/{id}/cancel", { params: { path: { id } } })),
    retry: () => unwrap(api.POST("/research/sessions/{id}/retry", { params: { path: { id } } })),
    invalidate: keys.research.all,
  });
  const stageIndex = s ? STAGES.indexOf(s.progress.stage) : 0;
  return (
    <JobPage
      back="/research"
      backLabel="Research"
      job={s}
      error={session.error ?? act.error}
      title={(s) => s.query}
      detail={(s) => `${s.depth}${s.include_domains.length ? ` · only ${s.include_domains.join(", ")}` : ""}`}
      onCancel={() => act.mutate("cancel")}
      onRetry={() => act.mutate("retry")}
    >
      {(s) => (
        <>
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
                  <button key={format} type="button" className="secondary" onClick={() => act.mutate({ format })}>
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
          <LiveLog log={log} />
        </>
      )}
    </JobPage>
  );
};
