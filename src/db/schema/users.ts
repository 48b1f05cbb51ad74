import { sql } from "drizzle-orm";
import { boolean, check, pgTable, varchar } from "drizzle-orm/pg-core";
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
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [check("users_email_lowercase_check", sql`${t.email} = lower(${t.email})`)],
);

/** A row of `users` as read. */
export type User = typeof users.$inferSelect;

/** A row of `users` as inserted (`id` and timestamps are filled in when left out). */
export type NewUser = typeof users.$inferInsert;
