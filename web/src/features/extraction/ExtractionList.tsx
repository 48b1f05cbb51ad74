import { Empty, ErrorBanner, formatDate, Loading, PageHeader, StatusBadge } from "../../components/ui";
import { useExtractionJobs, useJobTitle } from "./queries";

export const ExtractionList = () => {
  const list = useExtractionJobs();
  const titleOf = useJobTitle();
  return (
    <section className="page">
      <PageHeader title="Extraction">
        <a className="button" href="/extraction/new">
          New extraction
        </a>
      </PageHeader>
      <ErrorBanner error={list.error} />
      {list.isPending ? (
        <Loading />
      ) : list.data?.items.length ? (
        <ul className="cards">
          {list.data.items.map((j) => (
            <li key={j.id} className="card">
              <a href={`/extraction/${j.id}`}>{titleOf(j)}</a> <StatusBadge status={j.status} />
              <p className="muted">
                {j.schema.columns.length} columns · {j.rows_extracted} rows ({j.rows_valid} valid) ·{" "}
                {formatDate(j.created_at)} · <code>{j.id}</code>
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
