import { z } from "@hono/zod-openapi";
import { getSession } from "../../../../services/research/sessions.js";
import { ResearchResultSchema } from "../schemas.js";
import { defineTool } from "../tool.js";
import { researchResult } from "./research-result.js";

export const getResearchTool = defineTool({
  name: "get_research",
  title: "Get a research session",
  description:
    "A research session of the user's, by id: its status and progress (stage, sources found and read, percent), and once completed its report with the checked sources and `resource_uri` for the report as Markdown. With a progress token and the session still running, it waits a while first, sending progress notifications. Needs the `research` or `read` scope.",
  scope: "research",
  reads: true,
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({
    id: z.string().min(1).max(64).openapi({
      description: "The session's id, as `start_research` answered it.",
      example: "res_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z",
    }),
  }),
  output: ResearchResultSchema,
  run: async ({ id }, call) => researchResult(await getSession({ ctx: call.ctx, id }), call),
});
