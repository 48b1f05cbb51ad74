// Applies the drizzle-kit migrations in migrations/ to a database. Used by `npm start`, `npm test` and by
// hand (`DATABASE_URL=… npm run db:migrate`) against Neon before a deploy.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Applies pending migrations; safe to run again (drizzle records what it applied).
 * @param {string} connectionString a direct Postgres connection string
 */
export const applyMigrations = async (connectionString) => {
  const pool = new pg.Pool({ connectionString, max: 1 });
  try {
    await migrate(drizzle(pool), { migrationsFolder: join(root, "migrations") });
  } finally {
    await pool.end();
  }
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.env.DIRECT_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) {
    console.error("Set DATABASE_URL (or DIRECT_DATABASE_URL) to the database to migrate.");
    process.exit(2);
  }
  await applyMigrations(url);
  console.log("migrations applied");
}
