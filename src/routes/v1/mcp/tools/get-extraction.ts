import { z } from "@hono/zod-openapi";
import { getJob } from "../../../../services/extraction/jobs.js";
import { ExtractionResultSchema } from "../schemas.js";
import { defineTool } from "../tool.js";
import { extractionResult } from "./extraction-result.js";

export const getExtractionTool = defineTool({
  name: "get_extraction",
  title: "Get an extraction job",
  description:
    "An extraction job of the user's, by id: its status and progress, and once completed its first rows (values, validity and the rules broken, provenance, confidence) with `resource_uri` for all rows as CSV. With a progress token and the job still running, it waits a while first, sending progress notifications. Needs the `extraction` or `read` scope.",
  scope: "extraction",
  reads: true,
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: z.object({
    id: z.string().min(1).max(64).openapi({
      description: "The job's id, as `start_extraction` answered it.",
      example: "ext_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z",
    }),
  }),
  output: ExtractionResultSchema,
  run: async ({ id }, call) => extractionResult(await getJob({ ctx: call.ctx, id }), call),
});
