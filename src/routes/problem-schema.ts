import { z } from "@hono/zod-openapi";
import { type ErrorCode, errorCatalogue, PROBLEM_CONTENT_TYPE } from "../lib/errors.js";

/** RFC 9457 problem details: the body of every error APE answers. */
export const ProblemSchema = z
  .object({
    type: z
      .string()
      .openapi({ description: "A URI naming the kind of problem.", example: "urn:ape:problem:not-found" }),
    title: z.string().openapi({ description: "A short summary of the kind of problem.", example: "Not found" }),
    status: z.number().int().openapi({ description: "The HTTP status code.", example: 404 }),
    detail: z.string().openapi({
      description: "What went wrong with this request, for people.",
      example: "No conversation conv_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z",
    }),
    code: z
      .enum(errorCatalogue.map((entry) => entry.code) as [ErrorCode, ...ErrorCode[]])
      .openapi({ description: "A stable machine-readable code; branch on this.", example: "NOT_FOUND" }),
    requestId: z.string().openapi({
      description: "The request id, also in the x-request-id header; quote it when reporting a problem.",
      example: "req_4f1c2a9b8e7d6c5b4a392817",
    }),
    instance: z.string().optional().openapi({ description: "The path that was requested.", example: "/api/v1/x" }),
    errors: z
      .array(
        z
          .object({
            path: z.string().openapi({ description: "The failing field, as a dotted path.", example: "body.email" }),
            message: z.string().openapi({ description: "Why it failed.", example: "Invalid email address" }),
          })
          .openapi("FieldError"),
      )
      .optional()
      .openapi({
        description: "For VALIDATION_FAILED: each field that failed and why.",
        example: [{ path: "body.email", message: "Invalid email address" }],
      }),
  })
  .openapi("Problem", { description: "An error, as RFC 9457 problem details." });

const descriptions: Partial<Record<number, string>> = {
  400: "The request is malformed or did not pass validation, or a model provider refused it (`PROVIDER_REJECTED_REQUEST`).",
  401: "No valid credentials were sent.",
  402: "The monthly budget is spent (`BUDGET_EXCEEDED`).",
  403: "The caller may not do this.",
  404: "There is no such resource, or it belongs to someone else.",
  405: "The path exists but not with this method.",
  409: "The request conflicts with the resource's current state.",
  413: "The body is over the size limit.",
  415: "The body's media type is not accepted.",
  422: "A guardrail blocked the content (`CONTENT_BLOCKED`).",
  429: "Too many requests; retry after the Retry-After header's seconds.",
  500: "An unexpected error; the request id helps us find it.",
  502: "Every model provider failed, or the model's answer was unusable (`ALL_PROVIDERS_FAILED`, `MODEL_OUTPUT_INVALID`).",
  503: "A dependency or the configuration is not in order.",
};

/**
 * OpenAPI response entries for the given statuses, all problem+json.
 * @example
 * responses: { 200: {...}, ...problemResponses(400, 404) }
 */
export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: descriptions[status] ?? "An error.",
        content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
      },
    ]),
  );
