/**
 * Every failure APE answers with, by stable code. Clients branch on `code`; the HTTP status follows from it.
 * Add a code here and the compiler makes you give it a status and a title.
 */
const catalogue = {
  BAD_REQUEST: { status: 400, title: "Bad request" },
  VALIDATION_FAILED: { status: 400, title: "The request did not pass validation" },
  MALFORMED_JSON: { status: 400, title: "The request body is not valid JSON" },
  UNKNOWN_MODEL: { status: 400, title: "No configured model answers to this name" },
  CAPABILITY_UNAVAILABLE: { status: 400, title: "No model this request may use can honour one of its fields" },
  PROVIDER_REJECTED_REQUEST: { status: 400, title: "The model provider refused the request as invalid" },
  MESSAGE_TOO_LONG: { status: 400, title: "The message does not fit the model's context window" },
  WEAK_PASSWORD: { status: 400, title: "The password is too weak" },
  INVALID_RESET_TOKEN: { status: 400, title: "The reset token is invalid or has expired" },
  UNAUTHENTICATED: { status: 401, title: "Authentication required" },
  INVALID_CREDENTIALS: { status: 401, title: "Email or password is wrong" },
  INVALID_REFRESH_TOKEN: { status: 401, title: "The refresh token is invalid, expired or revoked" },
  REFRESH_TOKEN_REUSED: { status: 401, title: "The refresh token was already used; the session is revoked" },
  BUDGET_EXCEEDED: { status: 402, title: "The monthly budget is spent" },
  FORBIDDEN: { status: 403, title: "Not allowed" },
  INSUFFICIENT_SCOPE: { status: 403, title: "The API key's scopes do not cover this route" },
  INVALID_PASSWORD: { status: 403, title: "The current password is wrong" },
  NOT_FOUND: { status: 404, title: "Not found" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  CONFLICT: { status: 409, title: "Conflict" },
  TURN_IN_PROGRESS: { status: 409, title: "This conversation is answering another message" },
  EMAIL_TAKEN: { status: 409, title: "An account with this email exists" },
  CONTENT_BLOCKED: { status: 422, title: "A guardrail blocked the request" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Request body too large" },
  DOCUMENT_TOO_LARGE: { status: 413, title: "The file is larger than a document may be" },
  STORAGE_QUOTA_EXCEEDED: { status: 413, title: "The file does not fit in the account's storage quota" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  UNSUPPORTED_DOCUMENT_TYPE: { status: 415, title: "APE cannot read this kind of file" },
  DOCUMENT_NOT_READY: { status: 409, title: "The document is not ready yet" },
  WEBHOOK_EXISTS: { status: 409, title: "An endpoint with this URL exists" },
  WEBHOOK_LIMIT_REACHED: { status: 409, title: "The account has as many webhook endpoints as it may" },
  WEBHOOK_DISABLED: { status: 409, title: "The webhook endpoint is disabled" },
  DELIVERY_IN_PROGRESS: { status: 409, title: "The delivery is still being attempted" },
  RATE_LIMITED: { status: 429, title: "Too many requests" },
  INTERNAL: { status: 500, title: "Internal error" },
  ALL_PROVIDERS_FAILED: { status: 502, title: "Every LLM provider failed" },
  EMBEDDING_FAILED: { status: 502, title: "The embedding provider failed" },
  MODEL_OUTPUT_INVALID: { status: 502, title: "The model's answer did not match the expected shape" },
  CONFIG_INVALID: { status: 503, title: "The service is misconfigured" },
  NO_PROVIDER_CONFIGURED: { status: 503, title: "No LLM provider is configured" },
  SEARCH_NOT_CONFIGURED: { status: 503, title: "No web search provider is configured" },
  GUARDRAIL_UNAVAILABLE: { status: 503, title: "The configured guardrail cannot be reached" },
  NOT_READY: { status: 503, title: "A dependency is unavailable" },
  RATE_LIMIT_UNAVAILABLE: { status: 503, title: "Rate limiting is unavailable, so this route is closed for now" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof catalogue;

export type ErrorStatus = (typeof catalogue)[ErrorCode]["status"];

/** One field that failed validation: where it is and why. */
export type FieldError = { path: string; message: string };

/** Extra members a problem may carry besides the standard ones. */
export type ProblemExtensions = {
  errors?: FieldError[];
  [member: string]: unknown;
};

/**
 * The one error type APE throws for expected failures. The renderer turns it into problem+json.
 * @example
 * throw new ApiError("NOT_FOUND", "No conversation conv_01HX…");
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: ErrorStatus;
  readonly title: string;
  readonly extensions: ProblemExtensions;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    detail?: string,
    options: { extensions?: ProblemExtensions; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    const entry = catalogue[code];
    super(detail ?? entry.title, { cause: options.cause });
    this.name = "ApiError";
    this.code = code;
    this.status = entry.status;
    this.title = entry.title;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

/** RFC 9457 problem details, as APE sends them. */
export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  instance?: string;
} & ProblemExtensions;

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** The `type` URI of a code: stable, and documented in the README's error table. */
export const problemType = (code: ErrorCode) => `urn:ape:problem:${code.toLowerCase().replaceAll("_", "-")}`;

/** Every code with its status, for the OpenAPI document and the README. */
export const errorCatalogue = Object.entries(catalogue).map(([code, entry]) => ({ code: code as ErrorCode, ...entry }));

/**
 * The one renderer: an ApiError as an RFC 9457 response.
 * @example
 * return renderProblem(new ApiError("NOT_FOUND"), { requestId, instance: url.pathname });
 */
export const renderProblem = (error: ApiError, context: { requestId: string; instance?: string }): Response => {
  const body: Problem = {
    ...error.extensions,
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    requestId: context.requestId,
    ...(context.instance ? { instance: context.instance } : {}),
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { ...error.headers, "content-type": PROBLEM_CONTENT_TYPE, "x-request-id": context.requestId },
  });
};

const OPENAI_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "insufficient_quota",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  413: "invalid_request_error",
  415: "invalid_request_error",
  429: "rate_limit_error",
};

/**
 * The same ApiError in OpenAI's error shape (`{ error: { message, type, param, code } }`), for the
 * OpenAI-compatible front door, whose clients parse that shape. `code` is APE's stable code.
 */
export const renderOpenAiError = (error: ApiError, context: { requestId: string }): Response => {
  const firstField = error.extensions.errors?.[0]?.path;
  const body = {
    error: {
      message: error.message,
      type: OPENAI_TYPES[error.status] ?? "api_error",
      param: firstField ? firstField.replace(/^body\./, "") : null,
      code: error.code,
      ...(error.extensions.attempts ? { attempts: error.extensions.attempts } : {}),
    },
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { ...error.headers, "content-type": "application/json", "x-request-id": context.requestId },
  });
};
