import type { App } from "../../../lib/app.js";
import { errorCatalogue } from "../../../lib/errors.js";

const errorTable = errorCatalogue.map((entry) => `| \`${entry.code}\` | ${entry.status} | ${entry.title} |`).join("\n");

/** The OpenAPI 3.1 document's top matter; paths and schemas come from the routes themselves. */
export const openApiInfo: Parameters<App["getOpenAPI31Document"]>[0] = {
  openapi: "3.1.0",
  info: {
    title: "APE — AI Productivity Engine",
    version: "1.0.0",
    description: [
      "One API for chat, web research with citations, schema-based extraction and code tools, on Cloudflare's edge.",
      "",
      "Every error is `application/problem+json` (RFC 9457) with a stable `code` and the `requestId`",
      "(also sent as the `x-request-id` header on every response). Codes:",
      "",
      "| code | status | meaning |",
      "|---|---|---|",
      errorTable,
    ].join("\n"),
  },
  servers: [{ url: "/api/v1", description: "This deployment" }],
  tags: [
    { name: "health", description: "Liveness and readiness of APE and its dependencies." },
    { name: "auth", description: "Accounts, sign-in, token refresh and password reset." },
    { name: "users", description: "The caller's account and audit trail." },
    { name: "api keys", description: "Keys for programs, with scopes; shown once, stored hashed." },
    {
      name: "chat",
      description: "Conversations with a model of your choice, their messages, and answers as JSON or a stream.",
    },
    {
      name: "code",
      description: "Code tools: generate, review, explain and convert code, with validated JSON answers.",
    },
    {
      name: "research",
      description: "Research sessions: a question planned, searched, read and reported on with checked citations.",
    },
    {
      name: "extraction",
      description: "Extraction jobs: rows of a schema you give (or APE suggests) taken from web pages, as JSON or CSV.",
    },
    {
      name: "documents",
      description: "Uploaded files read into text, split and embedded, and searched by meaning.",
    },
    {
      name: "webhooks",
      description: "Endpoints APE calls, signed, when a job finishes; their deliveries and retries.",
    },
    {
      name: "openai",
      description:
        "The OpenAI-compatible front door: chat completions (tools, structured outputs, images, streams), embeddings and models.",
    },
    {
      name: "mcp",
      description:
        "APE as a Model Context Protocol server (Streamable HTTP): its tools and resources for assistants and editors.",
    },
  ],
};

export const registerOpenApiDocument = (app: App) => {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An access token from /auth/login or /auth/refresh, or an API key (`ape_…`).",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "An API key (`ape_…`), as an alternative to the Authorization header.",
  });
  return app.doc31("/openapi.json", openApiInfo);
};
