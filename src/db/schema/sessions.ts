import { index, pgTable, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, timestamptz } from "./columns.js";
import { users } from "./users.js";

/**
 * A sign-in: one per login, the family every refresh token of that login belongs to. The live copy sits in
 * Redis (`session:{id}`, 24 h sliding) so revocation is instant; this row is the durable record and what a
 * "sign out everywhere" walks.
 */
export const sessions = pgTable(
  "sessions",
  {
    id: idColumn("ses"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    ipAddress: varchar("ip_address", { length: 64 }),
    userAgent: varchar("user_agent", { length: 512 }),
    createdAt: createdAt(),
    revokedAt: timestamptz("revoked_at"),
    /** Why it ended: logout, refresh_reuse, password_reset, account_deleted. */
    revokedReason: varchar("revoked_reason", { length: 32 }),
  },
  (t) => [index("idx_sessions_user").on(t.userId, t.createdAt)],
);

export type Session = typeof sessions.$inferSelect;
export type NewSession = typeof sessions.$inferInsert;
