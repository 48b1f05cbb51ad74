import { sql } from "drizzle-orm";
import { boolean, check, numeric, pgTable, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, updatedAt } from "./columns.js";

/**
 * People who can sign in. `email` is stored lower-cased (code normalises it; a CHECK refuses anything else)
 * and is unique; `password_hash` holds the encoded password hash, never the password.
 */
export const users = pgTable(
  "users",
  {
    id: idColumn("usr"),
    email: varchar("email", { length: 255 }).notNull().unique("users_email_unique"),
    passwordHash: varchar("password_hash", { length: 255 }).notNull(),
    name: varchar("name", { length: 255 }),
    isActive: boolean("is_active").notNull().default(true),
    isVerified: boolean("is_verified").notNull().default(false),
    /** Optional spending cap per calendar month (UTC) in US dollars; model calls past it answer 402. */
    monthlyBudgetUsd: numeric("monthly_budget_usd", { precision: 12, scale: 2 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [check("users_email_lowercase_check", sql`${t.email} = lower(${t.email})`)],
);

/** A row of `users` as read. */
export type User = typeof users.$inferSelect;

/** A row of `users` as inserted (`id` and timestamps are filled in when left out). */
export type NewUser = typeof users.$inferInsert;
