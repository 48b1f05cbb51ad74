import type { DocumentFailure, ExtractionFailure, ResearchSession } from "../../db/schema/index.js";

/**
 * The `data` of each event: what a receiver needs to act (the id, the status, counts, and links to fetch the
 * rest with its API key), never the result itself. Links are paths under the API's origin.
 */

/** `document.ready` and `document.failed`. */
export const documentEventData = (doc: {
  id: string;
  filename: string;
  kind: string;
  status: "ready" | "failed";
  pages?: number | null;
  chunks?: number | null;
  error?: DocumentFailure | null;
}) => ({
  document_id: doc.id,
  status: doc.status,
  filename: doc.filename,
  kind: doc.kind,
  ...(doc.status === "ready" ? { pages: doc.pages ?? 0, chunks: doc.chunks ?? 0 } : { error: doc.error ?? null }),
  links: { self: `/api/v1/documents/${doc.id}`, text: `/api/v1/documents/${doc.id}/text` },
});

/** `extraction.completed` and `extraction.failed`. */
export const extractionEventData = (job: {
  id: string;
  status: "completed" | "failed";
  rowsExtracted?: number;
  rowsValid?: number;
  pagesFetched?: number;
  error?: ExtractionFailure | null;
}) => ({
  job_id: job.id,
  status: job.status,
  ...(job.status === "completed"
    ? { rows_extracted: job.rowsExtracted ?? 0, rows_valid: job.rowsValid ?? 0, pages_fetched: job.pagesFetched ?? 0 }
    : { error: job.error ?? null }),
  links: {
    self: `/api/v1/extraction/jobs/${job.id}`,
    ...(job.status === "completed"
      ? { rows: `/api/v1/extraction/jobs/${job.id}/rows`, export: `/api/v1/extraction/jobs/${job.id}/export` }
      : { retry: `/api/v1/extraction/jobs/${job.id}/retry` }),
  },
});

/** `research.completed` and `research.failed`. */
export const researchEventData = (
  session: Pick<ResearchSession, "id" | "query" | "sources" | "stoppedEarly" | "error" | "cachedFrom"> & {
    status: "completed" | "failed";
  },
) => ({
  session_id: session.id,
  status: session.status,
  query: session.query,
  ...(session.status === "completed"
    ? {
        sources: session.sources?.length ?? 0,
        stopped_early: session.stoppedEarly ?? null,
        cached_from: session.cachedFrom ?? null,
      }
    : { error: session.error ?? null }),
  links: {
    self: `/api/v1/research/sessions/${session.id}`,
    ...(session.status === "completed"
      ? { export: `/api/v1/research/sessions/${session.id}/export?format=md` }
      : { retry: `/api/v1/research/sessions/${session.id}/retry` }),
  },
});
