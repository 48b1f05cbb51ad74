import { ListPage } from "../../components/pages";
import { formatDate, StatusBadge } from "../../components/ui";
import { useExtractionJobs, useJobTitle } from "./queries";

export const ExtractionList = () => {
  const titleOf = useJobTitle();
  return (
    <ListPage
      title="Extraction"
      newHref="/extraction/new"
      newLabel="New extraction"
      list={useExtractionJobs()}
      empty={
        <>
          No extraction jobs yet. <a href="/extraction/new">Start one</a>.
        </>
      }
      card={(j) => (
        <>
          <a href={`/extraction/${j.id}`}>{titleOf(j)}</a> <StatusBadge status={j.status} />
          <p className="muted">
            {j.schema.columns.length} columns · {j.rows_extracted} rows ({j.rows_valid} valid) ·{" "}
            {formatDate(j.created_at)} · <code>{j.id}</code>
          </p>
        </>
      )}
    />
  );
};
