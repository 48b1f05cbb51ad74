import { Empty, ErrorBanner, formatDate, Loading, PageHeader, StatusBadge } from "../../components/ui";
import { useResearchSessions } from "./queries";

export const ResearchList = () => {
  const list = useResearchSessions();
  return (
    <section className="page">
      <PageHeader title="Research">
        <a className="button" href="/research/new">
          New research
        </a>
      </PageHeader>
      <ErrorBanner error={list.error} />
      {list.isPending ? (
        <Loading />
      ) : list.data?.items.length ? (
        <ul className="cards">
          {list.data.items.map((s) => (
            <li key={s.id} className="card">
              <a href={`/research/${s.id}`}>{s.query}</a> <StatusBadge status={s.status} />
              <p className="muted">
                {s.depth} · {s.sources.length} sources · {formatDate(s.created_at)} · <code>{s.id}</code>
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
