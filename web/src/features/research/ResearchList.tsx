import { ListPage } from "../../components/pages";
import { formatDate, StatusBadge } from "../../components/ui";
import { useResearchSessions } from "./queries";

export const ResearchList = () => (
  <ListPage
    title="Research"
    newHref="/research/new"
    newLabel="New research"
    list={useResearchSessions()}
    empty={
      <>
        No research yet. <a href="/research/new">Ask a question</a>.
      </>
    }
    card={(s) => (
      <>
        <a href={`/research/${s.id}`}>{s.query}</a> <StatusBadge status={s.status} />
        <p className="muted">
          {s.depth} · {s.sources.length} sources · {formatDate(s.created_at)} · <code>{s.id}</code>
        </p>
      </>
    )}
  />
);
