import { z } from "@hono/zod-openapi";

export const EmailSchema = z
  .email()
  .max(255)
  .openapi({ description: "The account's email; compared case-insensitively.", example: "ada@example.com" });

export const NewPasswordSchema = z.string().min(8).max(128).openapi({
  description: "8 to 128 characters, not one of the most common passwords.",
  example: "correct horse battery staple",
});

export const UserSchema = z
  .object({
    id: z.string().openapi({ description: "The user's id.", example: "usr_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z" }),
    email: z.string().openapi({ description: "The email, lower-cased.", example: "ada@example.com" }),
    name: z.string().nullable().openapi({ description: "Display name, if given.", example: "Ada Lovelace" }),
    is_verified: z.boolean().openapi({ description: "Whether the email was verified.", example: false }),
    monthly_budget_usd: z.number().nullable().openapi({
      description: "Spending cap per calendar month (UTC) in US dollars; null when there is none.",
      example: 25,
    }),
    created_at: z.string().openapi({ description: "When the account was made.", example: "2026-11-25T10:30:00.000Z" }),
    updated_at: z.string().openapi({ description: "Last change.", example: "2026-11-25T10:30:00.000Z" }),
  })
  .openapi("User");

export const TokenPairSchema = z
  .object({
    access_token: z.string().openapi({
      description: "A JWT for `Authorization: Bearer …`, valid 15 minutes.",
      example: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c3JfMDEifQ.sig",
    }),
    token_type: z.literal("Bearer").openapi({ description: "Always `Bearer`.", example: "Bearer" }),
    expires_in: z.number().int().openapi({ description: "Seconds the access token stays valid.", example: 900 }),
    refresh_token: z.string().openapi({
      description: "Single use: trade it at /auth/refresh for a new pair. Using one twice ends the session.",
      example: "rt_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg",
    }),
    refresh_expires_in: z
      .number()
      .int()
      .openapi({ description: "Seconds the session lives without use.", example: 86400 }),
  })
  .openapi("TokenPair");

export const RefreshResultSchema = TokenPairSchema.extend({
  refresh_token: TokenPairSchema.shape.refresh_token.optional().openapi({
    description:
      "The next refresh token, single use. Absent when the request used the `ape_refresh` cookie: the new one is in the cookie only.",
    example: "rt_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg",
  }),
}).openapi("RefreshResult");

export const AuthResultSchema = z
  .object({
    user: UserSchema,
    tokens: TokenPairSchema,
  })
  .openapi("AuthResult");

export const RegisterBodySchema = z
  .object({
    email: EmailSchema,
    password: NewPasswordSchema,
    name: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .openapi({ description: "Display name.", example: "Ada Lovelace" }),
  })
  .openapi("RegisterRequest");

export const LoginBodySchema = z
  .object({
    email: EmailSchema,
    password: z
      .string()
      .min(1)
      .max(128)
      .openapi({ description: "The password.", example: "correct horse battery staple" }),
  })
  .openapi("LoginRequest");

export const RefreshBodySchema = z
  .object({
    refresh_token: z.string().min(1).max(200).optional().openapi({
      description:
        "The refresh token last received. Omit it to use the `ape_refresh` cookie instead (the web UI's way: the token then never reaches script).",
      example: "rt_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg",
    }),
  })
  .openapi("RefreshRequest");

export const ForgotPasswordBodySchema = z.object({ email: EmailSchema }).openapi("ForgotPasswordRequest");

export const ResetPasswordBodySchema = z
  .object({
    token: z.string().min(1).max(200).openapi({
      description: "The token from the reset mail.",
      example: "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg",
    }),
    password: NewPasswordSchema,
  })
  .openapi("ResetPasswordRequest");

export const AcceptedSchema = z
  .object({
    message: z.string().openapi({
      description: "What happens next; the same whether or not the account exists.",
      example: "If an account exists for this email, a reset link is on its way.",
    }),
  })
  .openapi("Accepted");
