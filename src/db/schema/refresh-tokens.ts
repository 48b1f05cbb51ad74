import { index, pgTable, text, uniqueIndex, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, timestamptz } from "./columns.js";
import { sessions } from "./sessions.js";
import { users } from "./users.js";

/**
 * Refresh tokens, stored as SHA-256 hashes. Each use rotates: the used token gets `rotated_at` and a new one is
 * issued in the same session. Presenting a rotated token again means it was copied, so the whole session
 * (the family) is revoked.
 */
export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: idColumn("rtk"),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: varchar("token_hash", { length: 64 }).notNull(),
    createdAt: createdAt(),
    expiresAt: timestamptz("expires_at").notNull(),
    rotatedAt: timestamptz("rotated_at"),
  },
  (t) => [uniqueIndex("idx_refresh_tokens_hash").on(t.tokenHash), index("idx_refresh_tokens_session").on(t.sessionId)],
);

export type RefreshToken = typeof refreshTokens.$inferSelect;
