import { useRef, useState } from "react";
import { api, type Schemas, unwrap } from "../api/client";
import {
  Empty,
  ErrorBanner,
  formatBytes,
  formatDate,
  Loading,
  PageHeader,
  Progress,
  StatusBadge,
} from "../components/ui";
import { uploadWithProgress } from "../lib/files";
import { useAction, useLoad } from "../lib/hooks";
import { navigate } from "../lib/router";

type Doc = Schemas["Document"];
const settling = (d: Doc) => d.status === "pending" || d.status === "processing";

export const Documents = () => {
  const list = useLoad(() => unwrap(api.GET("/documents", { params: { query: { limit: 100 } } })), [], {
    ms: 1500,
    while: (page) => page.items.some(settling),
  });
  const [uploads, setUploads] = useState<{ name: string; fraction: number }[]>([]);
  const upload = useAction();
  const remove = useAction();
  const input = useRef<HTMLInputElement>(null);

  const onFiles = async (files: FileList | null) => {
    if (!files?.length) return;
    for (const file of Array.from(files)) {
      setUploads((u) => [...u, { name: file.name, fraction: 0 }]);
      await upload.run(() =>
        uploadWithProgress<Doc>("/documents", file, (fraction) =>
          setUploads((u) => u.map((x) => (x.name === file.name ? { ...x, fraction } : x))),
        ),
      );
      setUploads((u) => u.filter((x) => x.name !== file.name));
      await list.reload();
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
      {list.loading && !list.data ? (
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
                        void remove.run(async () => {
                          await unwrap(api.DELETE("/documents/{id}", { params: { path: { id: d.id } } }));
                          await list.reload();
                        });
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

export const DocumentDetail = ({ id, page }: { id: string; page: number }) => {
  const doc = useLoad(() => unwrap(api.GET("/documents/{id}", { params: { path: { id } } })), [id], {
    ms: 1500,
    while: settling,
  });
  const ready = doc.data?.status === "ready";
  const text = useLoad(
    async () =>
      ready
        ? unwrap(api.GET("/documents/{id}/text", { params: { path: { id }, query: { from_page: page, limit: 1 } } }))
        : null,
    [id, page, ready],
  );
  const remove = useAction();
  const d = doc.data;
  return (
    <section className="page">
      <p>
        <a href="/documents">← Documents</a>
      </p>
      <ErrorBanner error={doc.error ?? remove.error} />
      {!d ? (
        doc.loading && <Loading />
      ) : (
        <>
          <PageHeader title={d.filename}>
            <button
              type="button"
              className="danger"
              onClick={() =>
                void remove.run(async () => {
                  if (!confirm(`Delete ${d.filename}?`)) return;
                  await unwrap(api.DELETE("/documents/{id}", { params: { path: { id } } }));
                  navigate("/documents");
                })
              }
            >
              Delete
            </button>
          </PageHeader>
          <p>
            <StatusBadge status={d.status} /> {d.kind} · {formatBytes(d.size_bytes)} · {d.pages ?? "?"} pages ·{" "}
            {d.characters ?? 0} characters
          </p>
          {d.error ? <p className="error-text">{d.error.message}</p> : null}
          {settling(d) && <Loading label="Reading the document…" />}
          {ready && (
            <div className="card">
              <h2>Extracted text</h2>
              <ErrorBanner error={text.error} />
              {text.loading ? (
                <Loading />
              ) : (
                text.data && (
                  <>
                    {text.data.pages.map((p) => (
                      <div key={p.page} id={`page-${p.page}`}>
                        <h3>
                          Page {p.label ?? p.page}
                          {p.ocr ? <span className="badge">OCR</span> : null}
                        </h3>
                        <pre className="doc-text">{p.text || "(no text on this page)"}</pre>
                      </div>
                    ))}
                    <nav aria-label="Pages" className="pager">
                      {page > 1 && <a href={`/documents/${id}?page=${page - 1}`}>← Page {page - 1}</a>}
                      <span>
                        Page {page} of {text.data.total_pages}
                      </span>
                      {text.data.next_page && (
                        <a href={`/documents/${id}?page=${text.data.next_page}`}>Page {text.data.next_page} →</a>
                      )}
                    </nav>
                  </>
                )
              )}
            </div>
          )}
        </>
      )}
    </section>
  );
};
