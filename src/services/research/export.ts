import type { ResearchSession } from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";
import { exportRows } from "../extraction/export-writers.js";
import { reportDocx } from "./docx.js";
import { requireSession } from "./sessions.js";

/** The formats a session exports to: the report (Markdown, DOCX), everything (JSON), or its sources (CSV, XLSX). */
export const researchExportFormats = ["md", "json", "csv", "xlsx", "docx"] as const;

/** One of {@link researchExportFormats}. */
export type ResearchExportFormat = (typeof researchExportFormats)[number];

const DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

const SOURCE_COLUMNS = [
  { name: "n", type: "integer" },
  { name: "kind", type: "string" },
  { name: "url", type: "string" },
  { name: "title", type: "string" },
  { name: "quote", type: "string" },
  { name: "accessed_at", type: "datetime" },
  { name: "document_id", type: "string" },
  { name: "page", type: "integer" },
];

const bytesStream = (bytes: Uint8Array) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });

const completed = (session: ResearchSession) => {
  if (session.status !== "completed" || session.report === null) {
    throw new ApiError("CONFLICT", `Session ${session.id} is ${session.status}; it exports once it has completed.`, {
      extensions: { status: session.status },
    });
  }
  // Sources listed before document research existed are all web pages.
  return {
    report: session.report,
    sources: (session.sources ?? []).map((source) => ({ ...source, kind: source.kind ?? "web" })),
  };
};

/**
 * A completed session as a file: the report as Markdown or DOCX, the whole result as JSON, or its sources
 * (n, kind, url, title, quote, accessed_at, and for a document's page document_id and page) as CSV or XLSX through the extraction export writers.
 * @example
 * const file = await exportSession({ ctx, id, format: "docx" });
 * return new Response(file.stream, { headers: { "content-type": file.contentType } });
 */
export const exportSession = async ({
  ctx,
  id,
  format,
}: {
  ctx: ServiceContext;
  id: string;
  format: ResearchExportFormat;
}) => {
  const session = await requireSession({ ctx, id });
  const { report, sources } = completed(session);
  const filename = `research-${session.id}.${format}`;
  const encoder = new TextEncoder();
  switch (format) {
    case "md":
      return { stream: bytesStream(encoder.encode(report)), contentType: "text/markdown; charset=utf-8", filename };
    case "json": {
      const body = {
        id: session.id,
        query: session.query,
        depth: session.depth,
        source_kind: session.sourceKind,
        summary: session.summary,
        report,
        sources,
        skipped_sources: session.skippedSources,
        citation_check: session.citationCheck,
        stopped_early: session.stoppedEarly,
        usage: session.usage,
        completed_at: session.completedAt?.toISOString() ?? null,
      };
      return {
        stream: bytesStream(encoder.encode(JSON.stringify(body, null, 2))),
        contentType: "application/json; charset=utf-8",
        filename,
      };
    }
    case "docx":
      return {
        stream: bytesStream(await reportDocx({ title: session.query, markdown: report })),
        contentType: DOCX_TYPE,
        filename,
      };
    case "csv":
    case "xlsx": {
      const exported = exportRows(format, {
        columns: SOURCE_COLUMNS,
        rows: sources.map((source) => ({
          values: { document_id: null, page: null, ...source },
          valid: true,
          errors: [],
        })),
      });
      return { stream: exported.stream, contentType: exported.contentType, filename };
    }
  }
};
