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
    action: varchar("action", { length: 80 }).notNull(),
    resourceType: varchar("resource_type", { length: 50 }),
    resourceId: text("resource_id"),
    details: jsonb("details").$type<Record<string, unknown>>(),
    ipAddress: inet("ip_address"),
    userAgent: varchar("user_agent", { length: 512 }),
    requestId: varchar("request_id", { length: 128 }),
    createdAt: createdAt(),
  },
  (t) => [
    index("idx_audit_logs_user").on(t.userId, t.createdAt),
    index("idx_audit_logs_user_action").on(t.userId, t.action),
  ],
);

/** A row of `audit_logs` as read. */
export type AuditLog = typeof auditLogs.$inferSelect;

/** A row of `audit_logs` as inserted. */
export type NewAuditLog = typeof auditLogs.$inferInsert;
