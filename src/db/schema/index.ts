/**
 * APE's Postgres schema, one table a file. drizzle-kit reads this file to generate migrations, and the
 * database client passes it to drizzle for typed queries.
 */
export * from "./api-keys.js";
export * from "./audit-logs.js";
export * from "./conversations.js";
export * from "./documents.js";
export * from "./extraction-jobs.js";
export * from "./messages.js";
export * from "./password-reset-tokens.js";
export * from "./refresh-tokens.js";
export * from "./research-sessions.js";
export * from "./sessions.js";
export * from "./usage-records.js";
export * from "./users.js";
export * from "./webhooks.js";
