import { eq } from "drizzle-orm";
import { researchSessions } from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";
import { getDocument, uploadDocument } from "../documents/documents.js";
import { bytesSource } from "../documents/upload-source.js";
import { requireSession } from "./sessions.js";

/**
 * Stores a completed session's report as one of the caller's documents (Markdown), ingested like an upload, so
 * a conversation can name it in `document_ids` and answer follow-up questions over it. A second call answers
 * the same document while it exists (`created: false`).
 * @example
 * const { document } = await attachReport({ ctx, id: "res_…" });
 */
export const attachReport = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const session = await requireSession({ ctx, id });
  if (session.status !== "completed" || !session.report) {
    throw new ApiError(
      "CONFLICT",
      `Session ${id} is ${session.status}; its report can be attached once it has completed.`,
    );
  }
  if (session.documentId) {
    try {
      return { document: await getDocument({ ctx, id: session.documentId }), created: false };
    } catch (error) {
      // Deleted since: store it again.
      if (!(error instanceof ApiError && error.code === "NOT_FOUND")) throw error;
    }
  }
  const document = await uploadDocument({
    ctx,
    input: {
      source: bytesSource(new TextEncoder().encode(session.report)),
      filename: `research-${session.id}.md`,
      declaredType: "text/markdown",
    },
  });
  await ctx.db.update(researchSessions).set({ documentId: document.id }).where(eq(researchSessions.id, session.id));
  ctx.audit({ action: "research.attach", resourceType: "research_session", resourceId: id });
  return { document, created: true };
};
