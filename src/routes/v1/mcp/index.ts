import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireCaller } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { type JsonRpcMessage, serveMcp } from "./serve.js";
import { mcpTools } from "./tools/index.js";

const JsonRpcMessageSchema = z
  .object({
    jsonrpc: z.literal("2.0").openapi({ description: "Always `2.0`.", example: "2.0" }),
    id: z
      .union([z.string().max(200), z.number().int()])
      .optional()
      .openapi({ description: "The request's id; absent on notifications.", example: 1 }),
    method: z.string().min(1).max(200).optional().openapi({
      description: "The MCP method: `initialize`, `tools/list`, `tools/call`, `resources/list`, `resources/read`, …",
      example: "tools/call",
    }),
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({
        description: "The method's parameters; `_meta.progressToken` asks for progress notifications.",
        example: { name: "get_research", arguments: { id: "res_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z" } },
      }),
    result: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "A response's result (client to server responses only).", example: {} }),
    error: z
      .object({
        code: z.number().int().openapi({ description: "The JSON-RPC error code.", example: -32601 }),
        message: z.string().openapi({ description: "What went wrong.", example: "Method not found" }),
        data: z.unknown().optional().openapi({ description: "More about it.", example: null }),
      })
      .optional()
      .openapi({
        description: "A response's error (client to server responses only).",
        example: { code: -32601, message: "Method not found" },
      }),
  })
  .refine(
    (message) => message.method !== undefined || (message.id !== undefined && (message.result ?? message.error)),
    "is neither a request or notification (`method`) nor a response (`id` with `result` or `error`)",
  )
  .openapi("JsonRpcMessage", {
    description: "One JSON-RPC 2.0 message of the Model Context Protocol (batches are not accepted).",
  });

const JsonRpcAnswerSchema = z
  .object({
    jsonrpc: z.literal("2.0").openapi({ description: "Always `2.0`.", example: "2.0" }),
    id: z.union([z.string(), z.number()]).openapi({ description: "The request's id.", example: 1 }),
    result: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({
        description:
          "The method's result. For `tools/call`: `structuredContent` (the tool's output schema), `content` (the same as JSON text, and links to resources) and `isError`, which is true when the tool failed and its text is APE's problem details.",
        example: { structuredContent: { id: "res_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z", status: "running" }, content: [] },
      }),
    error: z
      .object({
        code: z.number().int().openapi({ description: "The JSON-RPC error code.", example: -32002 }),
        message: z.string().openapi({ description: "What went wrong.", example: "NOT_FOUND: No research session." }),
        data: z.unknown().optional().openapi({ description: "APE's problem details.", example: null }),
      })
      .optional()
      .openapi({
        description: "Set instead of `result` when the method failed.",
        example: { code: -32002, message: "NOT_FOUND: No research session res_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z." },
      }),
  })
  .openapi("JsonRpcAnswer", { description: "The JSON-RPC answer to one request." });

const TOOLS = mcpTools.map((tool) => `\`${tool.name}\` (${tool.scope})`).join(", ");

export const mcpRoute = createRoute({
  method: "post",
  path: "/mcp",
  tags: ["mcp"],
  summary: "MCP server (Streamable HTTP)",
  description: [
    "APE as a Model Context Protocol server over Streamable HTTP, for any MCP client (Claude Desktop, Cursor, VS Code, the OpenAI Agents SDK, the official SDKs): point it at this URL with `Authorization: Bearer <APE API key>`.",
    `Tools, with the scope each needs (the scope of its REST route; \`get_research\` and \`get_extraction\` also take \`read\`): ${TOOLS}. Every tool has an input and an output schema (\`tools/list\`); a failing call is a tool result with \`isError\` whose text is APE's problem details (\`code\`, \`detail\`), never a stack. Calls run the same service verbs as the REST routes, so they are owner-checked, audited, rate limited (each POST counts), budgeted and recorded in usage alike.`,
    "Resources: `ape://research/{id}` (a completed session's report, Markdown) and `ape://extraction/{id}` (a completed job's rows, CSV), the owner's only.",
    "The server is stateless: each POST is answered on its own (no `Mcp-Session-Id`), so `GET` and `DELETE` answer 405. A request is answered as JSON, or as server-sent events when it carries `params._meta.progressToken` and the client accepts `text/event-stream`: research and extraction tools then wait up to `MCP_WAIT_SECONDS` for the queued work, sending `notifications/progress`, before they answer.",
  ].join("\n\n"),
  security: sessionOrApiKey,
  middleware: [requireCaller(), rateLimit("default")] as const,
  request: {
    body: { required: true, content: { "application/json": { schema: JsonRpcMessageSchema } } },
  },
  responses: {
    200: {
      description: "The answer: JSON, or server-sent events (progress notifications, then the answer).",
      content: {
        "application/json": { schema: JsonRpcAnswerSchema },
        "text/event-stream": { schema: { type: "string" } },
      },
    },
    202: { description: "A notification or response, accepted (no body)." },
    ...problemResponses(400, 401, 403, 413, 415, 429),
  },
});

/** The MCP server, at /mcp. */
export const registerMcpRoutes = (app: App) =>
  app.openapi(mcpRoute, async (c) =>
    serveMcp({ ctx: c.var.ctx, request: c.req.raw, message: c.req.valid("json") as JsonRpcMessage }),
  );
