import { useQuery } from "@tanstack/react-query";
import { api, type Schemas, unwrap } from "../../api/client";
import { isActive } from "../../components/ui";
import { keys } from "../../lib/query";
import { hostOf } from "../../lib/url";
import { useDocuments } from "../documents/queries";

export type Job = Schemas["ExtractionJob"];
export const running = (j: Job) => isActive(j.status);

export const useExtractionJobs = () =>
  useQuery({
    queryKey: keys.extraction.list,
    queryFn: () => unwrap(api.GET("/extraction/jobs", { params: { query: { limit: 50 } } })),
    refetchInterval: (query) => (query.state.data?.items.some(running) ? 2000 : false),
  });

/** One job, polled while it runs. */
export const useExtractionJob = (id: string) =>
  useQuery({
    queryKey: keys.extraction.one(id),
    queryFn: () => unwrap(api.GET("/extraction/jobs/{id}", { params: { path: { id } } })),
    refetchInterval: (query) => (query.state.data && running(query.state.data) ? 1000 : false),
  });

/** A completed job's rows, all or only the valid or invalid ones. */
export const useExtractionRows = (id: string, filter: "all" | "true" | "false", enabled: boolean) =>
  useQuery({
    queryKey: keys.extraction.rows(id, filter),
    queryFn: () =>
      unwrap(
        api.GET("/extraction/jobs/{id}/rows", {
          params: { path: { id }, query: { limit: 500, valid: filter === "all" ? undefined : filter } },
        }),
      ),
    enabled,
  });

/**
 * What a job is called: its document's file name, or the host of the page or site it reads (a crawl says so),
 * falling back to the id only while the document's name is unknown.
 */
export const useJobTitle = () => {
  const docs = useDocuments();
  const names = new Map(docs.data?.items.map((d) => [d.id, d.filename]) ?? []);
  return (j: Pick<Job, "source_type" | "document_id" | "source_url">) =>
    j.source_type === "document"
      ? (names.get(j.document_id ?? "") ?? "A deleted document")
      : j.source_type === "web_crawl"
        ? `${hostOf(j.source_url ?? "")} (site)`
        : hostOf(j.source_url ?? "");
};
