import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { api, unwrap } from "../../api/client";
import {
  Empty,
  ErrorBanner,
  formatBytes,
  formatDate,
  Loading,
  PageHeader,
  Progress,
  StatusBadge,
} from "../../components/ui";
import { uploadWithProgress } from "../../lib/files";
import { keys } from "../../lib/query";
import { type Doc, useDocuments } from "./queries";

export const DocumentList = () => {
  const client = useQueryClient();
  const list = useDocuments();
  const [uploads, setUploads] = useState<{ name: string; fraction: number }[]>([]);
  const upload = useMutation({
    mutationFn: (file: File) =>
      uploadWithProgress<Doc>("/documents", file, (fraction) =>
        setUploads((u) => u.map((x) => (x.name === file.name ? { ...x, fraction } : x))),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: keys.documents.all }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/documents/{id}", { params: { path: { id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.documents.all }),
  });
  const input = useRef<HTMLInputElement>(null);

  const onFiles = async (files: FileList | null) => {
    if (!files?.length) return;
    for (const file of Array.from(files)) {
      setUploads((u) => [...u, { name: file.name, fraction: 0 }]);
      await upload.mutateAsync(file).catch(() => undefined);
      setUploads((u) => u.filter((x) => x.name !== file.name));
    }
    if (input.current) input.current.value = "";
  };

  return (
    <section className="page">
      <PageHeader title="Documents" />
      <div className="card">
        <label className="upload">
          Upload documents
          <input
            ref={input}
            type="file"
            multiple
            aria-describedby="upload-hint"
            onChange={(e) => void onFiles(e.target.files)}
          />
        </label>
        <p id="upload-hint" className="hint">
          PDF, images (read by OCR), CSV, XLSX, HTML, Markdown or text, up to 25 MB each.
        </p>
        {uploads.map((u) => (
          <div key={u.name} className="upload-progress">
            <span>{u.name}</span>
            <Progress value={u.fraction * 100} label={`Uploading ${u.name}`} />
          </div>
        ))}
      </div>
      <ErrorBanner error={upload.error ?? remove.error ?? list.error} />
      {list.isPending ? (
        <Loading />
      ) : list.data?.items.length ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Your documents</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Kind</th>
                <th scope="col">Size</th>
                <th scope="col">Pages</th>
                <th scope="col">Uploaded</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <a href={`/documents/${d.id}`}>{d.filename}</a>
                  </td>
                  <td>
                    <StatusBadge status={d.status} />
                    {d.error ? <span className="error-text"> {d.error.message}</span> : null}
                  </td>
                  <td>{d.kind}</td>
                  <td>{formatBytes(d.size_bytes)}</td>
                  <td>{d.pages ?? "—"}</td>
                  <td>{formatDate(d.created_at)}</td>
                  <td>
                    <button
                      type="button"
                      className="danger small"
                      aria-label={`Delete ${d.filename}`}
                      onClick={() => {
                        if (!confirm(`Delete ${d.filename}? Its text and passages go too.`)) return;
                        remove.mutate(d.id);
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <Empty>No documents yet. Upload one to chat with it or extract data from it.</Empty>
      )}
    </section>
  );
};
