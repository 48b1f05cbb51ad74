import { z } from "@hono/zod-openapi";
import { createSession } from "../../../../services/research/sessions.js";
import { CreateSessionBodySchema } from "../../research/schemas.js";
import { ResearchResultSchema } from "../schemas.js";
import { defineTool } from "../tool.js";
import { researchResult } from "./research-result.js";

export const startResearchTool = defineTool({
  name: "start_research",
  title: "Start research",
  description:
    "Starts cited research on a question: APE plans sub-questions, searches the web, your documents or both (`sources`; by default the web when a search provider is configured, else your documents), reads and ranks sources, and writes a Markdown report whose every [n] is checked by code to point at a source it read, with the quote occurring there. The work runs in APE's queue and takes a minute or more. Without a progress token this answers at once with the session (`status: pending`); with one it waits a while, sending progress notifications, and answers the session as far as it got (the report once `completed`). Follow it with `get_research`; read the report from `resource_uri`. The same question within 24 h is answered from the earlier report. Needs the `research` scope.",
  scope: "research",
  reads: false,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  input: z.object({
    query: CreateSessionBodySchema.shape.query,
    depth: CreateSessionBodySchema.shape.depth,
    sources: CreateSessionBodySchema.shape.sources,
    document_ids: CreateSessionBodySchema.shape.document_ids,
  }),
  output: ResearchResultSchema,
  run: async (args, call) => {
    const { session } = await createSession({ ctx: call.ctx, input: CreateSessionBodySchema.parse(args) });
    return researchResult(session, call);
  },
});
