import { index, jsonb, pgTable, text, uniqueIndex, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, timestamptz } from "./columns.js";
import { users } from "./users.js";

/**
 * API keys users create for programmatic access. Only a hash of the secret is kept (`key_hash`, unique, looked
 * up on every keyed request); `prefix` is the visible start of the key shown in lists. A key stops working
 * once `revoked_at` is set or `expires_at` has passed.
 */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: idColumn("key"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    keyHash: varchar("key_hash", { length: 255 }).notNull(),
    prefix: varchar("prefix", { length: 16 }).notNull(),
    name: varchar("name", { length: 100 }),
    /** What the key may do (`chat`, `research`, `extraction`, `code`, `documents`, `read`). */
    scopes: jsonb("scopes").$type<string[]>().notNull().default([]),
    lastUsedAt: timestamptz("last_used_at"),
    expiresAt: timestamptz("expires_at"),
    revokedAt: timestamptz("revoked_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("idx_api_keys_key_hash").on(t.keyHash), index("idx_api_keys_user").on(t.userId, t.createdAt)],
);

/** A row of `api_keys` as read. */
export type ApiKey = typeof apiKeys.$inferSelect;

/** A row of `api_keys` as inserted. */
export type NewApiKey = typeof apiKeys.$inferInsert;
