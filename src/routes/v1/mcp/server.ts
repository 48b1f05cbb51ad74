import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker-provider.js";
import { assertScope } from "../../../middleware/auth.js";
import type { ServiceContext } from "../../../services/context.js";
import { toolJsonSchema } from "./json-schema.js";
import { jsonRpcError, problemOf, toolError } from "./problems.js";
import { listResources, readResource, resourceTemplates } from "./resources.js";
import type { McpTool, ToolCall } from "./tool.js";
import { parseArguments } from "./tool.js";
import { mcpTools } from "./tools/index.js";

/** What the server tells a client about itself when it initialises. */
const SERVER_INFO = { name: "ape", title: "APE, the AI Productivity Engine", version: "0.1.0" };

const INSTRUCTIONS = [
  "APE's tools act on the signed-in user's own data: documents they uploaded, research sessions and extraction jobs they started.",
  "Research and extraction run in APE's queue and take a while: start them, then follow them with get_research or get_extraction (send a progress token to wait with progress notifications), and read the finished report or rows from the resource_uri they answer.",
  "A failed call answers a tool error whose text is APE's problem details as JSON: branch on `code`, show `detail`.",
].join(" ");

const byName = new Map(mcpTools.map((tool) => [tool.name, tool]));

const listedTool = (tool: McpTool) => ({
  name: tool.name,
  title: tool.title,
  description: tool.description,
  inputSchema: toolJsonSchema(tool.input, "input") as { type: "object" },
  outputSchema: toolJsonSchema(tool.output, "output") as { type: "object" },
  annotations: { title: tool.title, ...tool.annotations },
});

/** Runs one tool for the caller: its scope, its arguments, its run, its answer checked against its schema. */
const callTool = async (tool: McpTool, args: unknown, call: ToolCall): Promise<CallToolResult> => {
  const { ctx } = call;
  try {
    assertScope(ctx.caller, tool.scope, { reads: tool.reads });
    const { result, links } = await tool.run(parseArguments(tool.input, args ?? {}), call);
    // The structured result is what the output schema says, nothing more (a service may know more fields).
    const structured = tool.output.parse(result) as Record<string, unknown>;
    ctx.audit({ action: "mcp.call_tool", resourceType: "mcp_tool", resourceId: tool.name, details: { ok: true } });
    return {
      structuredContent: structured,
      content: [
        { type: "text", text: JSON.stringify(structured) },
        ...(links ?? []).map((link) => ({ type: "resource_link" as const, ...link })),
      ],
    };
  } catch (error) {
    const problem = problemOf(ctx, error, `/api/v1/mcp#tools/${tool.name}`);
    ctx.audit({
      action: "mcp.call_tool",
      resourceType: "mcp_tool",
      resourceId: tool.name,
      details: { ok: false, code: problem.code },
    });
    return toolError(problem);
  }
};

/**
 * The MCP server for one HTTP request, its tools and resources acting as the request's caller through the
 * same service verbs as the REST routes. A Worker keeps nothing between requests, so each request gets a
 * server of its own (the protocol's stateless mode) and `signal` ends whatever the request still runs.
 * `track` is handed each tool call's work, so the request's clean-up can wait for it.
 * @example
 * const server = createMcpServer({ ctx, signal, waitMs: 25_000, track: (work) => inflight.push(work) });
 */
export const createMcpServer = (options: {
  ctx: ServiceContext;
  signal: AbortSignal;
  waitMs: number;
  track: (work: Promise<unknown>) => void;
}) => {
  const { ctx } = options;
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: {}, resources: {} },
    instructions: INSTRUCTIONS,
    // ajv, the SDK's default, compiles validators at run time, which Workers forbid.
    jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
  });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: mcpTools.map(listedTool) }));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const tool = byName.get(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `No tool is named ${request.params.name.slice(0, 100)}.`);
    const token = request.params._meta?.progressToken;
    const signal = AbortSignal.any([options.signal, extra.signal]);
    const progress =
      token === undefined
        ? null
        : async (value: number, message: string) => {
            // A client that has gone cannot be told; the call goes on to its end (bounded by the wait).
            await extra
              .sendNotification({
                method: "notifications/progress",
                params: { progressToken: token, progress: value, total: 100, message },
              })
              .catch((error: unknown) => ctx.log.debug("progress notification not sent", { error }));
          };
    const work = callTool(tool, request.params.arguments, { ctx, signal, progress, waitMs: options.waitMs });
    options.track(work);
    return work;
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates }));
  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    try {
      return { resources: await listResources(ctx) };
    } catch (error) {
      throw jsonRpcError(problemOf(ctx, error, "/api/v1/mcp#resources/list"));
    }
  });
  server.setRequestHandler(ReadResourceRequestSchema, (request) => {
    const work = (async () => {
      try {
        const result = await readResource(ctx, request.params.uri);
        ctx.audit({ action: "mcp.read_resource", details: { uri: request.params.uri, ok: true } });
        return result;
      } catch (error) {
        const problem = problemOf(ctx, error, "/api/v1/mcp#resources/read");
        ctx.audit({
          action: "mcp.read_resource",
          details: { uri: request.params.uri.slice(0, 200), ok: false, code: problem.code },
        });
        throw jsonRpcError(problem);
      }
    })();
    options.track(work.catch(() => {}));
    return work;
  });
  return server;
};
