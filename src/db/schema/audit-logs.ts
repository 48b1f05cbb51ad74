import { index, inet, jsonb, pgTable, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn } from "./columns.js";
import { users } from "./users.js";

/**
 * Who did what to which record, and from where. Entries outlive their users: deleting a user sets `user_id`
 * to NULL. `resource_id` holds a prefixed id of any kind, `details` whatever else the action records.
 */
export const auditLogs = pgTable(
  "audit_logs",
  {
    id: idColumn("aud"),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    action: varchar("action", { length: 50 }).notNull(),
    resourceType: varchar("resource_type", { length: 50 }),
    resourceId: text("resource_id"),
    details: jsonb("details").$type<Record<string, unknown>>(),
    ipAddress: inet("ip_address"),
    createdAt: createdAt(),
  },
  (t) => [index("idx_audit_logs_user").on(t.userId, t.createdAt)],
);

/** A row of `audit_logs` as read. */
export type AuditLog = typeof auditLogs.$inferSelect;

/** A row of `audit_logs` as inserted. */
export type NewAuditLog = typeof auditLogs.$inferInsert;
