import { useId, useState } from "react";
import { DocumentPicker } from "./DocumentPicker";
import type { ChatDefaults } from "./defaults";
import { useModels } from "./queries";

/** The composer's settings for a new conversation: model, instructions, documents (remembered as defaults). */
export const ComposerOptions = ({
  value,
  onChange,
}: {
  value: ChatDefaults;
  onChange: (next: ChatDefaults) => void;
}) => {
  const models = useModels();
  const [open, setOpen] = useState(false);
  const panel = useId();
  const choices = models.data?.length ? models.data : ["auto"];
  return (
    <>
      <label className="inline-select">
        <span className="visually-hidden">Model</span>
        <select value={value.model} onChange={(e) => onChange({ ...value, model: e.target.value })}>
          {(choices.includes(value.model) ? choices : [value.model, ...choices]).map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
        </select>
      </label>
      <button
        type="button"
        className="secondary small"
        aria-expanded={open}
        aria-controls={panel}
        onClick={() => setOpen((o) => !o)}
      >
        Instructions and documents
        {value.systemPrompt || value.documentIds.length ? " •" : ""}
      </button>
      {open && (
        <div id={panel} className="composer-options card">
          <label>
            Instructions <span className="muted">(how APE should answer in this conversation)</span>
            <textarea
              rows={3}
              value={value.systemPrompt}
              onChange={(e) => onChange({ ...value, systemPrompt: e.target.value })}
            />
          </label>
          <DocumentPicker
            selected={value.documentIds}
            onChange={(documentIds) => onChange({ ...value, documentIds })}
          />
          {models.data && models.data.length === 0 && (
            <p className="hint">No model provider is configured on this API, so answers will fail until one is.</p>
          )}
        </div>
      )}
    </>
  );
};
