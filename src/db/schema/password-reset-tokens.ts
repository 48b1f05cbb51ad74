import { index, pgTable, text, uniqueIndex, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, timestamptz } from "./columns.js";
import { users } from "./users.js";

/** Single-use password reset tokens, stored as SHA-256 hashes, valid for 30 minutes. */
export const passwordResetTokens = pgTable(
  "password_reset_tokens",
  {
    id: idColumn("prt"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: varchar("token_hash", { length: 64 }).notNull(),
    createdAt: createdAt(),
    expiresAt: timestamptz("expires_at").notNull(),
    usedAt: timestamptz("used_at"),
  },
  (t) => [
    uniqueIndex("idx_password_reset_tokens_hash").on(t.tokenHash),
    index("idx_password_reset_tokens_user").on(t.userId),
  ],
);

export type PasswordResetToken = typeof passwordResetTokens.$inferSelect;
