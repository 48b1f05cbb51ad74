import { z } from "@hono/zod-openapi";
import { apiKeyScopes } from "../../../services/context.js";
import {
  DEFAULT_USAGE_RANGE_DAYS,
  MAX_USAGE_RANGE_DAYS,
  usageGroupings,
} from "../../../services/usage/usage-report.js";
import { NextCursorSchema, PageQuerySchema } from "../../pagination.js";
import { EmailSchema } from "../auth/schemas.js";

export const UpdateMeBodySchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .nullable()
      .optional()
      .openapi({ description: "New display name; null clears it.", example: "Ada King" }),
    email: EmailSchema.optional(),
    current_password: z
      .string()
      .max(128)
      .optional()
      .openapi({ description: "Required to change the email.", example: "correct horse battery staple" }),
    monthly_budget_usd: z
      .number()
      .min(0)
      .max(9_999_999_999.99)
      .multipleOf(0.01, "must have at most 2 decimals")
      .nullable()
      .optional()
      .openapi({
        description:
          "Spending cap per calendar month (UTC) in US dollars, at most 2 decimals; model calls past it answer 402 `BUDGET_EXCEEDED`. Null removes it.",
        example: 25,
      }),
  })
  .openapi("UpdateMeRequest");

export const DeleteMeBodySchema = z
  .object({
    password: z
      .string()
      .min(1)
      .max(128)
      .openapi({ description: "The current password, to confirm.", example: "correct horse battery staple" }),
  })
  .openapi("DeleteMeRequest");

export const AuditEntrySchema = z
  .object({
    id: z.string().openapi({ description: "The entry's id.", example: "aud_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z" }),
    action: z.string().openapi({ description: "What happened.", example: "auth.login" }),
    resource_type: z.string().nullable().openapi({ description: "Kind of record acted on.", example: "session" }),
    resource_id: z.string().nullable().openapi({ description: "Its id.", example: "ses_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z" }),
    details: z
      .looseObject({})
      .nullable()
      .openapi({ description: "More about it, never secrets.", example: { reason: "logout" } }),
    ip_address: z.string().nullable().openapi({ description: "Where the request came from.", example: "203.0.113.7" }),
    user_agent: z.string().nullable().openapi({ description: "The client's user agent.", example: "curl/8.5.0" }),
    request_id: z
      .string()
      .nullable()
      .openapi({ description: "The request's id.", example: "req_4f1c2a9b8e7d6c5b4a392817" }),
    created_at: z.string().openapi({ description: "When.", example: "2026-11-25T10:30:00.000Z" }),
  })
  .openapi("AuditEntry");

export const AuditPageSchema = z
  .object({
    items: z.array(AuditEntrySchema).openapi({ description: "Entries, newest first.", example: [] }),
    next_cursor: NextCursorSchema,
  })
  .openapi("AuditPage");

export const AuditQuerySchema = z.object({
  ...PageQuerySchema.shape,
  action: z.string().max(80).optional().openapi({ description: "Only this action.", example: "auth.login" }),
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: "Only entries at or after this time.", example: "2026-11-01T00:00:00Z" }),
  to: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: "Only entries at or before this time.", example: "2026-11-30T23:59:59Z" }),
});

export const ScopeSchema = z.enum(apiKeyScopes).openapi({ description: "What a key may do.", example: "read" });

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ description: "The key's id.", example: "key_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z" }),
    name: z.string().nullable().openapi({ description: "Its name.", example: "CI pipeline" }),
    prefix: z
      .string()
      .openapi({ description: "The key's first characters, to recognise it.", example: "ape_3kT9xQ2m" }),
    scopes: z.array(ScopeSchema).openapi({ description: "What it may do.", example: ["read", "extraction"] }),
    last_used_at: z
      .string()
      .nullable()
      .openapi({ description: "Last use (to the minute).", example: "2026-11-25T10:30:00.000Z" }),
    expires_at: z.string().nullable().openapi({ description: "When it stops working, if ever.", example: null }),
    revoked_at: z.string().nullable().openapi({ description: "When it was revoked, if it was.", example: null }),
    created_at: z.string().openapi({ description: "When it was made.", example: "2026-11-25T10:30:00.000Z" }),
  })
  .openapi("ApiKey");

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({
    description: "The key itself. Shown this once: store it now. Use as `Authorization: Bearer …` or `x-api-key`.",
    example: "ape_3kT9xQ2mZr8vLw1pYc6nHd4sFb7gJe0aUq5tXo2iKy9",
  }),
}).openapi("CreatedApiKey");

export const CreateApiKeyBodySchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .openapi({ description: "A name to recognise it by.", example: "CI pipeline" }),
    scopes: z
      .array(ScopeSchema)
      .min(1)
      .max(apiKeyScopes.length)
      .openapi({ description: "What it may do.", example: ["read"] }),
    expires_at: z.iso
      .datetime({ offset: true })
      .optional()
      .refine((value) => value === undefined || new Date(value) > new Date(), "must be in the future")
      .openapi({ description: "When it stops working; omit for never.", example: "2027-06-01T00:00:00Z" }),
  })
  .openapi("CreateApiKeyRequest");

export const ApiKeyPageSchema = z
  .object({
    items: z.array(ApiKeySchema).openapi({ description: "Keys, newest first.", example: [] }),
    next_cursor: NextCursorSchema,
  })
  .openapi("ApiKeyPage");

export const ApiKeyParamsSchema = z.object({
  id: z
    .string()
    .max(64)
    .openapi({
      param: { name: "id", in: "path" },
      description: "The key's id.",
      example: "key_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z",
    }),
});

export const UsageQuerySchema = z.object({
  from: z.iso
    .date()
    .optional()
    .openapi({
      description: `First day (UTC, \`YYYY-MM-DD\`), included; defaults to ${DEFAULT_USAGE_RANGE_DAYS} days before \`to\`. At most ${MAX_USAGE_RANGE_DAYS} days from \`to\`, both included.`,
      example: "2026-11-01",
    }),
  to: z.iso
    .date()
    .optional()
    .openapi({ description: "Last day (UTC, `YYYY-MM-DD`), included; defaults to today.", example: "2026-11-25" }),
  group_by: z
    .enum(usageGroupings)
    .default("day")
    .openapi({ description: "What each group is: a day, a service, a model or a provider.", example: "day" }),
});

const usageSums = {
  requests: z.number().int().openapi({ description: "Model calls.", example: 42 }),
  tokens_input: z.number().int().openapi({ description: "Tokens sent to the models.", example: 51_200 }),
  tokens_output: z.number().int().openapi({ description: "Tokens the models answered with.", example: 8_750 }),
  tokens_input_cached: z.number().int().openapi({
    description:
      "Of `tokens_input`, those the providers served from their prompt caches (OpenAI bills them at its lower cached-input price). 0 where a provider reports none.",
    example: 12_800,
  }),
  cost_usd: z.number().openapi({ description: "What the calls cost, in US dollars.", example: 0.0367 }),
  cache_hits: z.number().int().openapi({ description: "Calls answered from the cache (and so free).", example: 3 }),
};

export const UsageGroupSchema = z
  .object({
    key: z.string().openapi({
      description:
        "The group: a day (`YYYY-MM-DD`), a service (chat, research, extraction, code, openai), a model id or a provider.",
      example: "llama-3.3-70b-versatile",
    }),
    provider: z.string().optional().openapi({
      description: "Grouped by model only: the provider that answered (a model two providers served is two groups).",
      example: "groq",
    }),
    ...usageSums,
  })
  .openapi("UsageGroup");

export const UsageTotalsSchema = z.object(usageSums).openapi("UsageTotals");

export const UsageReportSchema = z
  .object({
    from: z.string().openapi({ description: "First day covered (UTC), included.", example: "2026-11-01" }),
    to: z.string().openapi({ description: "Last day covered (UTC), included.", example: "2026-11-25" }),
    group_by: z.enum(usageGroupings).openapi({ description: "How the groups are made.", example: "model" }),
    groups: z.array(UsageGroupSchema).openapi({
      description: "Days ascending; other groupings most expensive first, then by key. Empty when nothing was used.",
      example: [
        {
          key: "llama-3.3-70b-versatile",
          provider: "groq",
          requests: 42,
          tokens_input: 51_200,
          tokens_output: 8_750,
          tokens_input_cached: 12_800,
          cost_usd: 0.0367,
          cache_hits: 3,
        },
      ],
    }),
    totals: UsageTotalsSchema.openapi({
      description: "The sums over the whole range.",
      example: {
        requests: 42,
        tokens_input: 51_200,
        tokens_output: 8_750,
        tokens_input_cached: 12_800,
        cost_usd: 0.0367,
        cache_hits: 3,
      },
    }),
  })
  .openapi("UsageReport");
