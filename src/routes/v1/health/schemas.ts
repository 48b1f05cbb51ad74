import { z } from "@hono/zod-openapi";

export const LivenessSchema = z
  .object({
    status: z.literal("ok").openapi({ description: "Always `ok` when the Worker answers.", example: "ok" }),
    time: z.string().openapi({ description: "The Worker's clock, ISO 8601.", example: "2026-11-25T10:30:00.000Z" }),
  })
  .openapi("Liveness");

export const DependencyStatusSchema = z
  .object({
    status: z.enum(["up", "down"]).openapi({ description: "Whether the dependency answered.", example: "up" }),
    latency_ms: z.number().int().openapi({ description: "How long the check took, in milliseconds.", example: 12 }),
    error: z
      .string()
      .optional()
      .openapi({ description: "Why the check failed (never a secret).", example: "connection refused" }),
  })
  .openapi("DependencyStatus");

export const ProviderStatusSchema = z
  .object({
    id: z.string().openapi({ description: "The provider id used in `model`.", example: "groq" }),
    configured: z.boolean().openapi({ description: "Whether its settings are present.", example: false }),
    settings: z.array(z.string()).openapi({ description: "The settings that enable it.", example: ["GROQ_API_KEY"] }),
  })
  .openapi("ProviderStatus");

export const ReadinessSchema = z
  .object({
    status: z.literal("ready").openapi({ description: "Every dependency is up.", example: "ready" }),
    checks: z
      .object({
        postgres: DependencyStatusSchema,
        redis: DependencyStatusSchema,
        r2: DependencyStatusSchema,
        queues: DependencyStatusSchema,
      })
      .openapi({
        description: "Each dependency's status.",
        example: {
          postgres: { status: "up", latency_ms: 9 },
          redis: { status: "up", latency_ms: 4 },
          r2: { status: "up", latency_ms: 2 },
          queues: { status: "up", latency_ms: 0 },
        },
      }),
    providers: z.array(ProviderStatusSchema).openapi({
      description: "LLM providers and whether each is configured; none is needed to be ready.",
      example: [{ id: "groq", configured: true, settings: ["GROQ_API_KEY"] }],
    }),
  })
  .openapi("Readiness");
