import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { API_BASE, api, type Schemas, unwrap } from "../../api/client";
import { isActive } from "../../components/ui";
import { followEventStream } from "../../lib/event-stream";
import { keys } from "../../lib/query";

export type Session = Schemas["ResearchSession"];
export const running = (s: Session) => isActive(s.status);

export const useResearchSessions = () =>
  useQuery({
    queryKey: keys.research.list,
    queryFn: () => unwrap(api.GET("/research/sessions", { params: { query: { limit: 50 } } })),
    refetchInterval: (query) => (query.state.data?.items.some(running) ? 3000 : false),
  });

/** One session; polled while it runs, as the fallback of its event stream. */
export const useResearchSession = (id: string) =>
  useQuery({
    queryKey: keys.research.one(id),
    queryFn: () => unwrap(api.GET("/research/sessions/{id}", { params: { path: { id } } })),
    refetchInterval: (query) => (query.state.data && running(query.state.data) ? 4000 : false),
  });

/** What the research did, as its events told it: the plan, each source found, read or skipped, each section. */
export type ResearchLog = {
  subQuestions: string[];
  sources: { url: string; state: "found" | "read" | "skipped"; title?: string; reason?: string }[];
  sections: { index: number; question: string; citations: number }[];
};

const EMPTY: ResearchLog = { subQuestions: [], sources: [], sections: [] };

const reduce = (log: ResearchLog, event: string, data: Record<string, unknown>): ResearchLog => {
  switch (event) {
    case "plan":
      return { ...log, subQuestions: (data.sub_questions as string[] | undefined) ?? [] };
    case "sources": {
      const known = new Set(log.sources.map((s) => s.url));
      const found = ((data.urls as string[] | undefined) ?? []).filter((url) => !known.has(url));
      return { ...log, sources: [...log.sources, ...found.map((url) => ({ url, state: "found" as const }))] };
    }
    case "source_read":
    case "source_skipped": {
      const url = String(data.url ?? "");
      const entry =
        event === "source_read"
          ? { url, state: "read" as const, title: String(data.title ?? url) }
          : { url, state: "skipped" as const, reason: String(data.reason ?? "") };
      const rest = log.sources.filter((s) => s.url !== url);
      const at = log.sources.findIndex((s) => s.url === url);
      return { ...log, sources: at < 0 ? [...rest, entry] : log.sources.map((s) => (s.url === url ? entry : s)) };
    }
    case "section":
      return {
        ...log,
        sections: [
          ...log.sections,
          {
            index: Number(data.index ?? log.sections.length),
            question: String(data.question ?? ""),
            citations: Number(data.citations ?? 0),
          },
        ],
      };
    default:
      return log;
  }
};

/**
 * Follows a session's event stream (`GET …/events`, from its first event) into a log of what it did, and
 * refreshes the session in the cache at each stage so its progress and, at the end, its report show.
 */
export const useResearchEvents = (id: string, live: boolean) => {
  const client = useQueryClient();
  const [log, setLog] = useState<ResearchLog>(EMPTY);
  useEffect(() => {
    if (!live) return;
    const controller = new AbortController();
    let fresh = EMPTY;
    void followEventStream(
      `${API_BASE}/research/sessions/${encodeURIComponent(id)}/events`,
      {},
      (event) => {
        const data = event.data ? (JSON.parse(event.data) as Record<string, unknown>) : {};
        fresh = reduce(fresh, event.event, data);
        setLog(fresh);
        const progress = data.progress as Session["progress"] | undefined;
        if (progress) client.setQueryData<Session>(keys.research.one(id), (s) => (s ? { ...s, progress } : s));
        if (["stage", "completed", "failed", "cancelled", "done"].includes(event.event))
          void client.invalidateQueries({ queryKey: keys.research.one(id) });
      },
      controller.signal,
    )
      .then(() => client.invalidateQueries({ queryKey: keys.research.all }))
      .catch(() => undefined);
    return () => controller.abort();
  }, [client, id, live]);
  return log;
};
