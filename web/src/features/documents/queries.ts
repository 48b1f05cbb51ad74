import { useQuery } from "@tanstack/react-query";
import { api, type Schemas, unwrap } from "../../api/client";
import { keys } from "../../lib/query";

export type Doc = Schemas["Document"];
/** Whether a document is still being read (its text, chunks and passages are not there yet). */
export const settling = (d: Pick<Doc, "status">) => d.status === "pending" || d.status === "processing";

const fetchDocuments = () => unwrap(api.GET("/documents", { params: { query: { limit: 100 } } }));

/** The caller's documents, polled while any is still being read. */
export const useDocuments = () =>
  useQuery({
    queryKey: keys.documents.list,
    queryFn: fetchDocuments,
    refetchInterval: (query) => (query.state.data?.items.some(settling) ? 1500 : false),
  });

/** The documents that can ground answers or be extracted from. */
export const useReadyDocuments = () =>
  useQuery({
    queryKey: keys.documents.list,
    queryFn: fetchDocuments,
    select: (page) => page.items.filter((d) => d.status === "ready"),
  });

/** One document, polled while it is being read. */
export const useDocument = (id: string | undefined) =>
  useQuery({
    queryKey: keys.documents.one(id ?? ""),
    queryFn: () => unwrap(api.GET("/documents/{id}", { params: { path: { id: id ?? "" } } })),
    enabled: Boolean(id),
    refetchInterval: (query) => (query.state.data && settling(query.state.data) ? 1000 : false),
  });
