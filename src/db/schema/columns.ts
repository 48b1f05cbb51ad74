import { sql } from "drizzle-orm";
import { check, type PgColumn, text, timestamp } from "drizzle-orm/pg-core";
import { type IdPrefix, newId } from "../../lib/ids.js";

/**
 * Column builders the tables share. Not part of the schema itself (index.ts does not re-export them).
 */

/** A `text` primary key filled by code with a fresh prefixed id, e.g. `usr_01JD…`. */
export const idColumn = (prefix: IdPrefix) =>
  text("id")
    .primaryKey()
    .$defaultFn(() => newId(prefix));

/** A `timestamptz` read and written as a `Date`; nullable unless chained with `.notNull()`. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** `created_at timestamptz NOT NULL DEFAULT now()`. */
export const createdAt = () => timestamptz("created_at").notNull().defaultNow();

/** `updated_at timestamptz NOT NULL DEFAULT now()`, set to the current time by every drizzle update. */
export const updatedAt = () =>
  timestamptz("updated_at")
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

const literal = (value: string) => sql.raw(`'${value.replaceAll("'", "''")}'`);

/**
 * A CHECK constraint that keeps `column` to the given values (NULL passes, as with any CHECK; pair with
 * `.notNull()` where needed).
 */
export const oneOf = (name: string, column: PgColumn, values: readonly string[]) =>
  check(name, sql`${column} IN (${sql.join(values.map(literal), sql.raw(", "))})`);
