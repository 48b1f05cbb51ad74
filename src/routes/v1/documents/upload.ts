import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { uploadDocument } from "../../../services/documents/documents.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { DocumentSchema, UploadFormSchema, UploadQuerySchema } from "./schemas.js";
import { readUpload } from "./upload-body.js";

export const uploadDocumentRoute = createRoute({
  method: "post",
  path: "/documents",
  tags: ["documents"],
  summary: "Upload a document",
  description:
    "Stores a file and queues it for reading: a multipart form with a `file` part, or the file itself as the body with its `Content-Type` and `?filename=`. PDF (text layer; scanned pages by OCR), PNG, JPEG and TIFF (OCR), CSV, XLSX (every sheet), HTML, Markdown and plain text; the kind is decided by the bytes. Answers 202 with the document in `pending`; poll `GET /documents/{id}` until `ready` or `failed`. Over `DOCUMENT_MAX_BYTES` (25 MiB by default) is 413 `DOCUMENT_TOO_LARGE`; past the account's storage quota, 413 `STORAGE_QUOTA_EXCEEDED`; a kind APE cannot read, 415 `UNSUPPORTED_DOCUMENT_TYPE`. API keys need the `documents` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("documents"), rateLimit("default")] as const,
  request: {
    query: UploadQuerySchema,
    body: {
      required: false,
      description: "The file: a multipart form, or the raw bytes with their media type.",
      content: {
        "multipart/form-data": { schema: UploadFormSchema },
        "*/*": { schema: { type: "string", format: "binary" } },
      },
    },
  },
  responses: {
    202: { description: "Stored and queued for reading.", content: { "application/json": { schema: DocumentSchema } } },
    ...problemResponses(400, 401, 403, 413, 415, 429),
  },
});

export const registerUploadDocument = (app: App) =>
  app.openapi(uploadDocumentRoute, async (c) => {
    const upload = await readUpload(c.req, c.req.valid("query").filename);
    return c.json(await uploadDocument({ ctx: c.var.ctx, input: upload }), 202);
  });
