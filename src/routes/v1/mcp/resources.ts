import type { ReadResourceResult, Resource, ResourceTemplate } from "@modelcontextprotocol/sdk/types.js";
import { ApiError } from "../../../lib/errors.js";
import { assertScope } from "../../../middleware/auth.js";
import type { ApiKeyScope, ServiceContext } from "../../../services/context.js";
import { exportJob, listJobs } from "../../../services/extraction/jobs.js";
import { exportText } from "../../../services/mcp/export-text.js";
import { exportSession } from "../../../services/research/export.js";
import { listSessions } from "../../../services/research/sessions.js";
import { extractionUri, researchUri } from "./schemas.js";

/** How many of the newest completed sessions and jobs `resources/list` names; older ones are read by URI. */
const LISTED = 20;

const RESEARCH = {
  uriTemplate: "ape://research/{id}",
  name: "research-report",
  title: "Research report",
  description:
    "A completed research session's report in Markdown: a section per sub-question and a summary, every [n] checked to cite a source that was read, and the numbered sources. Needs the `research` or `read` scope.",
  mimeType: "text/markdown",
} satisfies ResourceTemplate;

const EXTRACTION = {
  uriTemplate: "ape://extraction/{id}",
  name: "extraction-rows",
  title: "Extraction rows",
  description:
    "A completed extraction job's rows as CSV, one column per schema column plus `_valid` and `_errors` (the rules each row broke). Needs the `extraction` or `read` scope.",
  mimeType: "text/csv",
} satisfies ResourceTemplate;

/** The kinds of resource, for `resources/templates/list`. */
export const resourceTemplates: ResourceTemplate[] = [RESEARCH, EXTRACTION];

const mayRead = (ctx: ServiceContext, scope: ApiKeyScope) => {
  try {
    assertScope(ctx.caller, scope, { reads: true });
    return true;
  } catch {
    return false;
  }
};

/** The caller's newest completed reports and extractions, of the kinds its scopes let it read. */
export const listResources = async (ctx: ServiceContext): Promise<Resource[]> => {
  const [sessions, jobs] = await Promise.all([
    mayRead(ctx, "research") ? listSessions({ ctx, input: { limit: LISTED, status: "completed" } }) : null,
    mayRead(ctx, "extraction") ? listJobs({ ctx, input: { limit: LISTED, status: "completed" } }) : null,
  ]);
  return [
    ...(sessions?.items ?? []).map((session) => ({
      uri: researchUri(session.id),
      name: `research-${session.id}.md`,
      title: session.query.slice(0, 200),
      mimeType: RESEARCH.mimeType,
    })),
    ...(jobs?.items ?? []).map((job) => ({
      uri: extractionUri(job.id),
      name: `extraction-${job.id}.csv`,
      title: `${job.rows_extracted} rows from ${job.source_url ?? job.document_id ?? job.source_type}`,
      mimeType: EXTRACTION.mimeType,
    })),
  ];
};

const URI = /^ape:\/\/(research|extraction)\/([A-Za-z0-9_]{1,64})$/;

/**
 * Reads one resource of the caller's: a session's report as Markdown or a job's rows as CSV, through the same
 * exports (and owner checks: another user's id is not found) as the REST routes.
 * @example
 * const { contents } = await readResource(ctx, "ape://research/res_01JD…");
 */
export const readResource = async (ctx: ServiceContext, uri: string): Promise<ReadResourceResult> => {
  const match = URI.exec(uri);
  if (!match?.[1] || !match[2]) throw new ApiError("NOT_FOUND", `No resource ${uri.slice(0, 200)}.`);
  const [, kind, id] = match;
  if (kind === "research") {
    assertScope(ctx.caller, "research", { reads: true });
    const file = await exportSession({ ctx, id, format: "md" });
    const text = await exportText(file.stream, { instead: `GET /api/v1/research/sessions/${id}/export?format=md` });
    return { contents: [{ uri, mimeType: RESEARCH.mimeType, text }] };
  }
  assertScope(ctx.caller, "extraction", { reads: true });
  const file = await exportJob({ ctx, id, input: { format: "csv", include_validity: true } });
  const text = await exportText(file.stream, {
    instead: `GET /api/v1/extraction/jobs/${id}/export?format=csv&include_validity=true`,
  });
  return { contents: [{ uri, mimeType: EXTRACTION.mimeType, text }] };
};
