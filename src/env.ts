import { z } from "zod";
import { productionProblems } from "./config/production-safety.js";
import { capabilityNames } from "./llm/models.js";
import { providerIds } from "./llm/types.js";

const csv = z.string().transform((value) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean),
);

const binding = <T>(name: string, probe: (value: object) => boolean) =>
  z.custom<T>(
    (value) => typeof value === "object" && value !== null && probe(value),
    `binding ${name} is missing or of the wrong kind (check wrangler.toml)`,
  );

const optionalSecret = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined));

/**
 * Everything the Worker reads from its environment: bindings declared in wrangler.toml, plain settings from
 * `[vars]` and secrets from `.dev.vars` or `wrangler secret put`. Checked once per isolate before routing.
 */
export const EnvSchema = z
  .object({
    ENVIRONMENT: z.enum(["development", "test", "production"]).default("production"),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    DATABASE_URL: z
      .string({ error: "is required: the Postgres connection string (Neon in production)" })
      .refine((value) => /^postgres(ql)?:\/\//.test(value), "must start with postgres:// or postgresql://"),
    UPSTASH_REDIS_REST_URL: z.url({ error: "is required: the Upstash Redis REST URL (https://…upstash.io)" }),
    UPSTASH_REDIS_REST_TOKEN: z.string({ error: "is required: the Upstash Redis REST token" }).min(1, "is empty"),
    JWT_SECRET: z
      .string({ error: "is required: a random secret of at least 32 characters for signing access tokens" })
      .min(32, "must be at least 32 characters"),
    WEBHOOK_SECRETS_KEY: optionalSecret.pipe(z.string().min(32, "must be at least 32 characters").optional()),
    WEB_ORIGINS: csv.default([]),
    MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .max(100 * 1024 * 1024)
      .default(1024 * 1024),
    RATE_LIMIT_AUTH_PER_MINUTE: z.coerce.number().int().positive().optional(),
    RATE_LIMIT_ACCOUNT_PER_MINUTE: z.coerce.number().int().positive().optional(),
    RATE_LIMIT_DEFAULT_PER_MINUTE: z.coerce.number().int().positive().optional(),
    RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().positive().optional(),
    RATE_LIMIT_HEALTH_PER_MINUTE: z.coerce.number().int().positive().optional(),
    HEALTH_READY_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
    EMAIL_PROVIDER: z.enum(["outbox", "ses"]).default("outbox"),
    EMAIL_FROM: z.string().optional(),
    SES_ENDPOINT: z.url().optional(),
    GROQ_API_KEY: optionalSecret,
    GROQ_BASE_URL: z.url().optional(),
    OPENAI_API_KEY: optionalSecret,
    OPENAI_BASE_URL: z.url().optional(),
    AWS_ACCESS_KEY_ID: optionalSecret,
    AWS_SECRET_ACCESS_KEY: optionalSecret,
    AWS_REGION: optionalSecret,
    BEDROCK_ENDPOINT: z.url().optional(),
    BEDROCK_GUARDRAIL_ID: optionalSecret,
    BEDROCK_GUARDRAIL_VERSION: z.string().min(1).default("DRAFT"),
    OPENAI_COMPATIBLE_BASE_URL: z.url().optional(),
    OPENAI_COMPATIBLE_API_KEY: optionalSecret,
    OPENAI_COMPATIBLE_MODELS: csv.default([]),
    OPENAI_COMPATIBLE_CONTEXT_WINDOW: z.coerce.number().int().min(256).max(10_000_000).default(8_192),
    OPENAI_COMPATIBLE_CAPABILITIES: csv
      .pipe(z.array(z.enum(capabilityNames)))
      .default(["tools", "json_schema", "vision"]),
    LLM_PROVIDER_ORDER: csv
      .pipe(z.array(z.enum(providerIds)).min(1, "must name at least one provider"))
      .default([...providerIds]),
    LLM_ATTEMPT_TIMEOUT_MS: z.coerce.number().int().positive().max(600_000).default(30_000),
    LLM_DEADLINE_MS: z.coerce.number().int().positive().max(900_000).default(90_000),
    LLM_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(2),
    LLM_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
    LLM_BREAKER_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    LLM_BREAKER_COOLDOWN_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    USAGE_FLUSH_BATCH: z.coerce.number().int().min(1).max(500).default(50),
    USAGE_FLUSH_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
    DEFAULT_MONTHLY_BUDGET_USD: z.coerce.number().min(0).max(1_000_000_000).optional(),
    LLM_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(3600),
    TEXTRACT_ENDPOINT: z.url().optional(),
    UPSTASH_VECTOR_REST_URL: z.url().optional(),
    UPSTASH_VECTOR_REST_TOKEN: optionalSecret,
    EMBEDDING_MODEL: z
      .string()
      .regex(/^(openai|bedrock|compat)\/\S+$/, "must be provider/model with provider openai, bedrock or compat")
      .optional(),
    DOCUMENT_MAX_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .max(100 * 1024 * 1024)
      .default(25 * 1024 * 1024),
    DOCUMENT_QUOTA_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(1024 * 1024 * 1024),
    // One queue message runs at most this much of a job, then checkpoints and queues the next slice: a consumer
    // invocation has 15 minutes and 10,000 subrequests, shared by its batch.
    JOB_SLICE_SECONDS: z.coerce.number().int().min(0).max(840).default(600),
    JOB_SLICE_SUBREQUESTS: z.coerce.number().int().min(1).max(9000).default(1000),
    DOCUMENT_MAX_PAGES: z.coerce.number().int().positive().max(100_000).default(2000),
    DOCUMENT_MAX_OCR_PAGES: z.coerce.number().int().min(0).max(100_000).default(200),
    DOCUMENT_MAX_UNCOMPRESSED_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .max(1024 * 1024 * 1024)
      .default(64 * 1024 * 1024),
    DOCUMENT_MAX_COMPRESSION_RATIO: z.coerce.number().positive().max(10_000).default(100),
    FETCH_ALLOW_HOSTS: csv.default([]),
    FETCH_DNS_RESOLVER_URL: z.url().default("https://cloudflare-dns.com/dns-query"),
    FIRECRAWL_API_KEY: optionalSecret,
    FIRECRAWL_API_URL: z.url().default("https://api.firecrawl.dev"),
    SEARXNG_URL: z.url().optional(),
    MCP_WAIT_SECONDS: z.coerce.number().int().min(0).max(300).default(25),
    FILES: binding<R2Bucket>("FILES", (v) => "head" in v && "put" in v),
    CONVERSATION_ROOM: binding<DurableObjectNamespace>("CONVERSATION_ROOM", (v) => "idFromName" in v),
    EXTRACTION_QUEUE: binding<Queue>("EXTRACTION_QUEUE", (v) => "send" in v),
    RESEARCH_QUEUE: binding<Queue>("RESEARCH_QUEUE", (v) => "send" in v),
    DOCUMENTS_QUEUE: binding<Queue>("DOCUMENTS_QUEUE", (v) => "send" in v),
    WEBHOOKS_QUEUE: binding<Queue>("WEBHOOKS_QUEUE", (v) => "send" in v),
  })
  .superRefine((env, issues) => {
    if (env.OPENAI_COMPATIBLE_BASE_URL && env.OPENAI_COMPATIBLE_MODELS.length === 0) {
      issues.addIssue({
        code: "custom",
        path: ["OPENAI_COMPATIBLE_MODELS"],
        message: "must name the models the server at OPENAI_COMPATIBLE_BASE_URL serves (comma-separated)",
      });
    }
    // A guardrail is a safety control: configured without the AWS settings to reach it, refuse to start.
    if (env.BEDROCK_GUARDRAIL_ID) {
      for (const name of ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const) {
        if (!env[name]) {
          issues.addIssue({ code: "custom", path: [name], message: "is required when BEDROCK_GUARDRAIL_ID is set" });
        }
      }
    }
    if (env.UPSTASH_VECTOR_REST_URL && !env.UPSTASH_VECTOR_REST_TOKEN) {
      issues.addIssue({
        code: "custom",
        path: ["UPSTASH_VECTOR_REST_TOKEN"],
        message: "is required when UPSTASH_VECTOR_REST_URL is set",
      });
    }
    if (env.ENVIRONMENT === "production") {
      for (const [name, message] of productionProblems(env)) issues.addIssue({ code: "custom", path: [name], message });
    }
    // SES mail needs its settings at start, not at the first password reset.
    if (env.EMAIL_PROVIDER !== "ses") return;
    for (const name of ["EMAIL_FROM", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const) {
      if (!env[name]) issues.addIssue({ code: "custom", path: [name], message: "is required when EMAIL_PROVIDER=ses" });
    }
  });

/** The validated environment the app works with. */
export type Env = z.output<typeof EnvSchema>;

/** What the runtime hands the Worker before validation. */
export type RawEnv = Record<string, unknown>;

/** The queue bindings, by the name health/ready reports them under. */
export const queueBindings = {
  extraction: "EXTRACTION_QUEUE",
  research: "RESEARCH_QUEUE",
  documents: "DOCUMENTS_QUEUE",
  webhooks: "WEBHOOKS_QUEUE",
} as const satisfies Record<string, keyof Env>;

export type EnvCheck = { ok: true; env: Env } | { ok: false; problems: string[] };

// Lives as long as the isolate: the runtime hands the same env object to every request of an isolate, so
// each distinct object is validated once.
const checked = new WeakMap<object, EnvCheck>();

/**
 * Validates the raw environment, naming each missing or bad setting (never its value).
 * @example
 * const check = checkEnv(rawEnv);
 * if (!check.ok) console.error(check.problems.join("\n"));
 */
export const checkEnv = (raw: RawEnv): EnvCheck => {
  const cached = checked.get(raw);
  if (cached) return cached;
  // An empty value (`GROQ_API_KEY=` in .dev.vars) means "not set", so defaults apply and required ones are named.
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== "")));
  const result: EnvCheck = parsed.success
    ? { ok: true, env: parsed.data }
    : {
        ok: false,
        problems: parsed.error.issues.map((issue) => `${issue.path.join(".") || "env"} ${issue.message}`),
      };
  checked.set(raw, result);
  return result;
};
