import { ErrorCode as JsonRpcErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { ApiError, type Problem, problemType } from "../../../lib/errors.js";
import type { ServiceContext } from "../../../services/context.js";

/**
 * Any failure of a tool or resource as APE's problem details (the body a REST route would answer with). An
 * ApiError keeps its code and detail; anything else is logged with its stack and becomes `INTERNAL`, so no
 * stack or internal message ever reaches the client.
 * @example
 * const problem = problemOf(ctx, error, "/api/v1/mcp#tools/get_research");
 */
export const problemOf = (ctx: ServiceContext, error: unknown, instance: string): Problem => {
  const known =
    error instanceof ApiError
      ? error
      : new ApiError("INTERNAL", "Something went wrong on our side. Quote the request id if you report it.");
  if (!(error instanceof ApiError)) ctx.log.error("mcp handler failed", { error, instance });
  else if (known.status >= 500) ctx.log.warn("mcp handler failed", { code: known.code, cause: known.cause, instance });
  return {
    ...known.extensions,
    type: problemType(known.code),
    title: known.title,
    status: known.status,
    detail: known.message,
    code: known.code,
    requestId: ctx.requestId,
    instance,
  };
};

/**
 * A tool's failure as an MCP tool error: `isError` with the problem as JSON text, so the model (or person)
 * reading the result sees APE's stable `code` and its `detail`, as a REST client would.
 */
export const toolError = (problem: Problem) => ({
  isError: true,
  content: [{ type: "text" as const, text: JSON.stringify(problem) }],
});

// JSON-RPC codes for what is not a tool result: -32002 is the MCP specification's "resource not found", the
// rest of APE's problems take -32000 (the start of the range JSON-RPC leaves to servers), and bad input -32602.
const jsonRpcCode = (problem: Problem) =>
  problem.status === 404 ? -32002 : problem.code === "VALIDATION_FAILED" ? JsonRpcErrorCode.InvalidParams : -32000;

/** A problem outside a tool call (reading a resource) as a JSON-RPC error whose `data` is the problem. */
export const jsonRpcError = (problem: Problem) =>
  new McpError(jsonRpcCode(problem), `${problem.code}: ${problem.detail}`, problem);
