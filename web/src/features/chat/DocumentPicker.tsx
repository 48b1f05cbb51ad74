import { ErrorBanner, Loading } from "../../components/ui";
import { useReadyDocuments } from "../documents/queries";

/** Checkboxes of the caller's ready documents. */
export const DocumentPicker = ({ selected, onChange }: { selected: string[]; onChange: (ids: string[]) => void }) => {
  const docs = useReadyDocuments();
  if (docs.isPending) return <Loading label="Loading documents…" />;
  if (docs.error) return <ErrorBanner error={docs.error} />;
  if (!docs.data.length)
    return <p className="muted">No ready documents yet: attach a file to the message, or drop one here.</p>;
  return (
    <fieldset className="checklist">
      <legend>Documents to answer from</legend>
      {docs.data.map((d) => (
        <label key={d.id} className="check">
          <input
            type="checkbox"
            checked={selected.includes(d.id)}
            onChange={(e) => onChange(e.target.checked ? [...selected, d.id] : selected.filter((id) => id !== d.id))}
          />
          {d.filename}
        </label>
      ))}
    </fieldset>
  );
};
