import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { ErrorBanner, formatBytes, Loading, PageHeader, StatusBadge } from "../../components/ui";
import { keys } from "../../lib/query";
import { navigate } from "../../lib/router";
import { settling, useDocument } from "./queries";

export const DocumentDetail = ({ id, page }: { id: string; page: number }) => {
  const client = useQueryClient();
  const doc = useDocument(id);
  const ready = doc.data?.status === "ready";
  const text = useQuery({
    queryKey: keys.documents.text(id, page),
    queryFn: () =>
      unwrap(api.GET("/documents/{id}/text", { params: { path: { id }, query: { from_page: page, limit: 1 } } })),
    enabled: ready,
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/documents/{id}", { params: { path: { id } } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: keys.documents.all });
      navigate("/documents");
    },
  });
  const d = doc.data;
  return (
    <section className="page">
      <p>
        <a href="/documents">← Documents</a>
      </p>
      <ErrorBanner error={doc.error ?? remove.error} />
      {!d ? (
        doc.isPending && <Loading />
      ) : (
        <>
          <PageHeader title={d.filename}>
            <button
              type="button"
              className="danger"
              onClick={() => {
                if (confirm(`Delete ${d.filename}?`)) remove.mutate();
              }}
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
              {text.isPending ? (
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
