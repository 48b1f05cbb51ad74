import { sql } from "drizzle-orm";
import { check, integer, jsonb, type PgColumn, text, timestamp } from "drizzle-orm/pg-core";
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

/**
 * The columns every leased job (documents, extraction jobs, research sessions) holds, defined once for
 * src/services/jobs/lease.ts:
 * - `attempt`: runs of the job, counted on a claim that starts over (a new job, a retry after a failure, a
 *   take-over of a lapsed lease), not on one that carries on after a slice;
 * - `slices`: claims of the job, every slice and retry counted; with `attempt` the fence a run writes under,
 *   so a stale delivery never overwrites a newer slice;
 * - `lease_until`: while running, until when this slice holds the job; while pending after a slice or a
 *   backoff, when its next message is overdue (the sweep queues it again then);
 */
export const leaseColumns = () => ({
  attempt: integer("attempt").notNull().default(0),
  slices: integer("slices").notNull().default(0),
  leaseUntil: timestamptz("lease_until"),
});

/** What a job's slices hand each other (research keeps its own `state` instead); null before the first. */
export const checkpointColumn = <Checkpoint>() => jsonb("checkpoint").$type<Checkpoint>();
