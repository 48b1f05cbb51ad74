import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, unwrap } from "../../api/client";
import { ErrorBanner, PageHeader } from "../../components/ui";
import { keys } from "../../lib/query";
import { navigate } from "../../lib/router";

const domains = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((d) => d.trim())
    .filter(Boolean);

export const NewResearch = () => {
  const [query, setQuery] = useState("");
  const [depth, setDepth] = useState<"quick" | "standard" | "deep">("quick");
  const [include, setInclude] = useState("");
  const [exclude, setExclude] = useState("");
  const client = useQueryClient();
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/research/sessions", {
          body: { query, depth, include_domains: domains(include), exclude_domains: domains(exclude), fresh: false },
        }),
      ),
    onSuccess: (created) => {
      void client.invalidateQueries({ queryKey: keys.research.list });
      navigate(`/research/${(created as { id: string }).id}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
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
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? "Starting…" : "Start research"}
        </button>
      </form>
    </section>
  );
};
