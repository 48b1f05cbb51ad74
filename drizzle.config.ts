import { defineConfig } from "drizzle-kit";

/**
 * drizzle-kit settings. `drizzle-kit generate` writes SQL migrations to ./migrations from the schema and needs no
 * database; `push`, `migrate` and `studio` connect to DATABASE_URL.
 */
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema/index.ts",
  out: "./migrations",
  dbCredentials: {
    url: process.env.DATABASE_URL ?? "",
  },
  strict: true,
  verbose: true,
});
