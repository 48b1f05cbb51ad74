import type { z } from "@hono/zod-openapi";
import type { ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { ApiError, type FieldError } from "../../../lib/errors.js";
import type { ApiKeyScope, ServiceContext } from "../../../services/context.js";

/** What a tool's run gets besides its arguments. */
export type ToolCall = {
  ctx: ServiceContext;
  /** Aborted when the client goes away or cancels the call. */
  signal: AbortSignal;
  /**
   * Reports progress when the client asked for it (a `progressToken`), else null: a tool that would wait for a
   * session or job only waits when someone is told how it goes.
   */
  progress: ((progress: number, message: string) => Promise<void>) | null;
  /** How long a tool may wait for a queued session or job before it answers with where it is. */
  waitMs: number;
};

/** A link to a resource the client can read, sent beside a tool's structured result. */
export type ToolLink = { uri: string; name: string; mimeType: string; description: string };

/**
 * One MCP tool: its name and description, the scope its REST route needs (`reads`: a GET route's, which
 * `read` keys may use too), its input and output schemas, and a run that calls service verbs and answers
 * what the output schema describes.
 */
export type McpTool<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> = {
  name: string;
  title: string;
  description: string;
  scope: ApiKeyScope;
  reads: boolean;
  annotations: ToolAnnotations;
  input: I;
  output: O;
  run: (args: z.output<I>, call: ToolCall) => Promise<{ result: z.input<O>; links?: ToolLink[] }>;
};

/**
 * Declares a tool with its types checked, then erases them so tools of every shape sit in one list.
 * @example
 * export const getResearchTool = defineTool({ name: "get_research", ..., run: async ({ id }, { ctx }) => ... });
 */
export const defineTool = <I extends z.ZodType, O extends z.ZodType>(tool: McpTool<I, O>): McpTool =>
  tool as unknown as McpTool;

/**
 * Parses a tool's arguments, or refuses them as a REST route refuses a body: `VALIDATION_FAILED` naming each
 * field (`arguments.query: …`).
 * @example
 * const args = parseArguments(tool.input, request.params.arguments ?? {});
 */
export const parseArguments = <S extends z.ZodType>(schema: S, value: unknown): z.output<S> => {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const errors: FieldError[] = parsed.error.issues.map((issue) => ({
    path: ["arguments", ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  throw new ApiError("VALIDATION_FAILED", errors.map((error) => `${error.path}: ${error.message}`).join("; "), {
    extensions: { errors },
  });
};
