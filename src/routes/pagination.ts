import { z } from "@hono/zod-openapi";

/** The query of every cursor-paginated list. */
export const PageQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ description: "Items per page, 1 to 100.", example: 20 }),
  cursor: z.string().max(64).optional().openapi({
    description: "`next_cursor` of the previous page; omit for the first.",
    example: "aud_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z",
  }),
});

export const NextCursorSchema = z.string().nullable().openapi({
  description: "Pass as `cursor` for the next page; null on the last.",
  example: "aud_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z",
});
