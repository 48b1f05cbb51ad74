// Files dropped on a conversation or picked in the composer: each is uploaded as a document with progress,
// then watched (polled through the query cache) until it is ready to ground answers, or failed.
import { useQueries, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { api, type ProblemError, toProblem, unwrap } from "../../api/client";
import { uploadWithProgress } from "../../lib/files";
import { keys } from "../../lib/query";
import { type Doc, settling } from "../documents/queries";

type Upload = { key: string; name: string; fraction: number; documentId?: string; error?: ProblemError };
export type Attachment = Upload & { status: "uploading" | "processing" | "ready" | "failed"; message?: string };

export const useAttachments = () => {
  const client = useQueryClient();
  const [uploads, setUploads] = useState<Upload[]>([]);
  const patch = useCallback(
    (key: string, change: Partial<Upload>) =>
      setUploads((all) => all.map((u) => (u.key === key ? { ...u, ...change } : u))),
    [],
  );

  const add = useCallback(
    (files: FileList | File[] | null) => {
      for (const file of Array.from(files ?? [])) {
        const key = crypto.randomUUID();
        setUploads((all) => [...all, { key, name: file.name, fraction: 0 }]);
        uploadWithProgress<Doc>("/documents", file, (fraction) => patch(key, { fraction }))
          .then((doc) => {
            client.setQueryData(keys.documents.one(doc.id), doc);
            void client.invalidateQueries({ queryKey: keys.documents.list });
            patch(key, { documentId: doc.id, fraction: 1 });
          })
          .catch((e) => patch(key, { error: toProblem(e) }));
      }
    },
    [client, patch],
  );

  const documents = useQueries({
    queries: uploads.map((u) => ({
      queryKey: keys.documents.one(u.documentId ?? ""),
      queryFn: () => unwrap(api.GET("/documents/{id}", { params: { path: { id: u.documentId ?? "" } } })),
      enabled: Boolean(u.documentId),
      refetchInterval: (query: { state: { data?: Doc | undefined } }) =>
        !query.state.data || settling(query.state.data) ? 800 : false,
    })),
  });

  const attachments: Attachment[] = uploads.map((u, i) => {
    const doc = documents[i]?.data;
    if (u.error) return { ...u, status: "failed", message: u.error.message };
    if (!u.documentId || !doc) return { ...u, status: u.documentId ? "processing" : "uploading" };
    if (doc.status === "failed")
      return { ...u, status: "failed", message: doc.error?.message ?? "It could not be read." };
    return { ...u, status: doc.status === "ready" ? "ready" : "processing" };
  });

  return {
    attachments,
    add,
    /** Whether every attachment has ended (ready or failed): a send waits for this. */
    settled: attachments.every((a) => a.status === "ready" || a.status === "failed"),
    readyIds: attachments.flatMap((a) => (a.status === "ready" && a.documentId ? [a.documentId] : [])),
    remove: (key: string) => setUploads((all) => all.filter((u) => u.key !== key)),
    clear: () => setUploads([]),
  };
};

export type Attachments = ReturnType<typeof useAttachments>;
