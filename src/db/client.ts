import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import * as schema from "./schema/index.js";

export type Database = ReturnType<typeof drizzle<typeof schema>>;

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/**
 * The Worker reaches Postgres over a WebSocket, as Neon serves it. A loopback host means the local stack:
 * there the connection string's host:port is a plain WebSocket-to-TCP bridge in front of a real Postgres,
 * which needs the four settings below; everything else about the connection is the same as against Neon.
 */
const configureForHost = (connectionString: string) => {
  const host = new URL(connectionString).hostname;
  if (!LOOPBACK.has(host)) return;
  neonConfig.wsProxy = (proxyHost, port) => `${proxyHost}:${port}/v1`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
};

/**
 * A drizzle database over a Neon Pool. Workers may not share sockets between requests, so each request makes
 * its own and calls `close()` when done (the init middleware does this through `waitUntil`).
 * @example
 * const { db, close } = createDatabase(env.DATABASE_URL);
 * const rows = await db.select().from(users);
 * ctx.waitUntil(close());
 */
export const createDatabase = (connectionString: string) => {
  configureForHost(connectionString);
  const pool = new Pool({ connectionString, max: 4, connectionTimeoutMillis: 5_000 });
  // A broken idle connection must not crash the isolate; the next query reports its own error.
  pool.on("error", () => {});
  const db = drizzle({ client: pool, schema });
  return { db, pool, close: () => pool.end() };
};
