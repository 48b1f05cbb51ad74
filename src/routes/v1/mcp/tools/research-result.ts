import type { z } from "@hono/zod-openapi";
import { followUntilDone } from "../../../../services/mcp/follow.js";
import { getSession, type PublicSession } from "../../../../services/research/sessions.js";
import { type ResearchResultSchema, researchUri } from "../schemas.js";
import type { ToolCall, ToolLink } from "../tool.js";

const ENDED = new Set(["completed", "failed", "cancelled"]);

/** A session as the research tools answer it, with a link to its report once there is one. */
const resultOf = (session: PublicSession): { result: z.input<typeof ResearchResultSchema>; links?: ToolLink[] } => {
  const uri = session.status === "completed" ? researchUri(session.id) : null;
  return {
    result: { ...session, resource_uri: uri },
    ...(uri
      ? {
          links: [
            {
              uri,
              name: `research-${session.id}.md`,
              mimeType: "text/markdown",
              description: `The cited report on: ${session.query.slice(0, 200)}`,
            },
          ],
        }
      : {}),
  };
};

/**
 * Answers a session; when the client asked for progress and the session is still queued or running, first
 * follows it (bounded by the call's wait), one notification each time its percentage grows.
 */
export const researchResult = async (session: PublicSession, call: ToolCall) => {
  const { progress } = call;
  if (!progress || ENDED.has(session.status)) return resultOf(session);
  const last = await followUntilDone({
    read: () => getSession({ ctx: call.ctx, id: session.id }),
    done: (current) => ENDED.has(current.status),
    report: (current) => ({
      progress: ENDED.has(current.status) ? 100 : current.progress.percent,
      message: ENDED.has(current.status) ? current.status : `${current.status}: ${current.progress.stage}`,
    }),
    onProgress: (report) => progress(report.progress, report.message),
    waitMs: call.waitMs,
    signal: call.signal,
  });
  return resultOf(last);
};
