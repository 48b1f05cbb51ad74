// A local server that speaks Amazon SES v2's SendEmail wire protocol (REST + JSON, SigV4-signed requests), so
// the real SDK can be driven against it. Tests script its next answer through POST /__fake/next.
import { createServer } from "node:http";

/**
 * @param {{ port?: number }} [options]
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export const startFakeSes = async ({ port = 0 } = {}) => {
  /** @type {{ status?: number, type?: string, delayMs?: number, close?: boolean, times?: number }[]} */
  const script = [];
  /** @type {unknown[]} */
  const sent = [];
  const read = (request) =>
    new Promise((resolve) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => resolve(body));
    });
  const fail = (response, status, type, message) =>
    response
      .writeHead(status, {
        "content-type": "application/json",
        "x-amzn-errortype": `${type}:`,
        "x-amzn-requestid": crypto.randomUUID(),
      })
      .end(JSON.stringify({ message }));

  const server = createServer(async (request, response) => {
    const body = await read(request);
    if (request.url === "/__fake/next" && request.method === "POST") {
      script.push(JSON.parse(body));
      return response.writeHead(204).end();
    }
    if (request.url === "/__fake/reset" && request.method === "POST") {
      script.length = 0;
      return response.writeHead(204).end();
    }
    if (request.url === "/__fake/sent") {
      return response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(sent));
    }
    if (request.url !== "/v2/email/outbound-emails" || request.method !== "POST") {
      return fail(response, 404, "NotFoundException", "Unknown operation");
    }
    if (
      !/^AWS4-HMAC-SHA256 Credential=\w+\/\d{8}\/[\w-]+\/ses\/aws4_request, SignedHeaders=[\w;-]+, Signature=[0-9a-f]{64}$/.test(
        request.headers.authorization ?? "",
      )
    ) {
      return fail(response, 403, "SignatureDoesNotMatch", "The request signature is missing or malformed.");
    }
    const next = script[0];
    if (next) {
      next.times = (next.times ?? 1) - 1;
      if (next.times <= 0) script.shift();
      if (next.delayMs) await new Promise((resolve) => setTimeout(resolve, next.delayMs));
      if (next.close) return request.socket.destroy();
      if (next.status) return fail(response, next.status, next.type ?? "BadRequestException", "Scripted failure");
    }
    const mail = JSON.parse(body);
    sent.push(mail);
    response.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": crypto.randomUUID() });
    response.end(JSON.stringify({ MessageId: `fake-${sent.length}-${crypto.randomUUID()}` }));
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
};
