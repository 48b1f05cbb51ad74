import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { ApiError, type ErrorCode } from "../../../lib/errors.js";
import { writeAuditEntries } from "../../../services/audit/record-audit.js";
import type { AuditEntry, ServiceContext } from "../../../services/context.js";
import { createMcpServer } from "./server.js";

/** One JSON-RPC message, as the route has validated it. */
export type JsonRpcMessage = {
  jsonrpc: "2.0";
  id?: string | number;
  method?: string;
  params?: Record<string, unknown>;
};

const wantsProgress = (message: JsonRpcMessage) => {
  const meta = message.params?._meta;
  return message.id !== undefined && typeof meta === "object" && meta !== null && "progressToken" in meta;
};

// What the transport may still refuse (it checks again what the route checked), as APE's problem codes.
const TRANSPORT_CODES: Partial<Record<number, ErrorCode>> = {
  400: "BAD_REQUEST",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

const transportProblem = async (response: Response) => {
  const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
  return new ApiError(TRANSPORT_CODES[response.status] ?? "BAD_REQUEST", body?.error?.message ?? "Not an MCP request.");
};

/** A stream that passes `body` on and says when it has ended, whether read to its end or cancelled. */
const watched = (body: ReadableStream<Uint8Array>, onEnd: (cancelled: boolean) => void) => {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          onEnd(false);
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        controller.error(error);
        onEnd(true);
      }
    },
    async cancel(reason) {
      onEnd(true);
      await reader.cancel(reason);
    },
  });
};

/**
 * Answers one MCP message over Streamable HTTP with a server of its own (stateless: a Worker keeps nothing
 * between requests). A call that asked for progress (and a client that takes server-sent events) gets an
 * event stream, so notifications can reach it while the call runs; everything else gets one JSON answer.
 *
 * A streamed call's work goes on after the handler has returned, so this takes over the request's audit
 * queue and clean-up: entries are written, and the database closed, only once the last call has ended. A
 * client that leaves ends the calls it left (their signal aborts), so nothing runs on unobserved.
 * @example
 * return serveMcp({ ctx, request: c.req.raw, message: c.req.valid("json") });
 */
export const serveMcp = async ({
  ctx,
  request,
  message,
}: {
  ctx: ServiceContext;
  request: Request;
  message: JsonRpcMessage;
}): Promise<Response> => {
  const version = request.headers.get("mcp-protocol-version");
  if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    throw new ApiError(
      "BAD_REQUEST",
      `MCP-Protocol-Version ${version.slice(0, 40)} is not supported; use one of ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}.`,
    );
  }
  const streaming = wantsProgress(message) && (request.headers.get("accept") ?? "").includes("text/event-stream");
  // Protocol messages (initialise, list) are not changes to audit; tool calls audit themselves.
  ctx.genericAudit = false;
  const entries: AuditEntry[] = [];
  ctx.audit = (entry) => {
    entries.push(entry);
  };
  const inflight: Promise<unknown>[] = [];
  const left = new AbortController();
  const server = createMcpServer({
    ctx,
    signal: AbortSignal.any([left.signal, request.signal]),
    waitMs: ctx.env.MCP_WAIT_SECONDS * 1000,
    track: (work) => inflight.push(work),
  });
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: !streaming,
  });
  await server.connect(transport);
  // The transport insists on both media types in Accept; which one answers was decided above. It is handed
  // the body already parsed, so the request it sees has none (nor a length for one).
  const headers = new Headers(request.headers);
  headers.set("accept", "application/json, text/event-stream");
  headers.delete("content-length");
  headers.delete("transfer-encoding");
  let ended: () => void = () => {};
  const over = new Promise<void>((resolve) => (ended = resolve));
  const finish = async () => {
    await over;
    await Promise.allSettled(inflight);
    await server.close();
    await writeAuditEntries({ ctx, entries });
  };
  ctx.defer(finish());
  let response: Response;
  try {
    response = await transport.handleRequest(new Request(request.url, { method: "POST", headers }), {
      parsedBody: message,
    });
  } catch (error) {
    ended();
    throw error;
  }
  if (response.status >= 400) {
    ended();
    throw await transportProblem(response);
  }
  if (!streaming || !response.body) {
    // A JSON answer is whole: every call it answers has ended.
    ended();
    return response;
  }
  const body = watched(response.body, (cancelled) => {
    if (cancelled) left.abort();
    ended();
  });
  return new Response(body, { status: response.status, headers: response.headers });
};
