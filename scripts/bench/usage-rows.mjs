// A heavy user's year of model calls, for benchmarks that read usage (the gateway benchmark calls it): a
// million `usage_records` rows made by Postgres itself with generate_series, then the `usage_daily` rollup
// filled from them in one INSERT … SELECT … GROUP BY, as recordUsage would have left it row by row.
import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * The models the seeded calls spread over: 6 models of 3 providers, with prices in USD per million tokens.
 * @type {Array<[provider: string, model: string, inputPrice: number, outputPrice: number]>}
 */
const MODELS = [
  ["groq", "llama-3.3-70b-versatile", 0.59, 0.79],
  ["groq", "llama-3.1-8b-instant", 0.05, 0.08],
  ["bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0", 0.8, 4],
  ["bedrock", "amazon.nova-lite-v1:0", 0.06, 0.24],
  ["openai", "gpt-4o-mini", 0.15, 0.6],
  ["openai", "gpt-4.1", 2, 8],
];

/** Every metered service (src/db/schema/usage-records.ts). */
const SERVICES = ["chat", "research", "extraction", "code", "openai"];

/**
 * A `values` list of SQL literals, each row led by its index; the values are the constants above, never input.
 * @param {Array<Array<string | number>>} rows
 */
const valuesList = (rows) =>
  rows
    .map((row, index) => `(${[index, ...row].map((v) => (typeof v === "number" ? v : `'${v}'`)).join(", ")})`)
    .join(", ");

/**
 * Inserts `rows` usage rows for one user, spread evenly at random over the last 365 days (UTC) across 5
 * services, 3 providers and 6 models (about 1 in 10 a cache hit, which costs nothing), and adds them to the
 * `usage_daily` rollup. Runs in one transaction; the user must exist. Usage the user already had stays, and
 * the rollup rows it shares with the seeded days are added to, not replaced.
 * @param {{ databaseUrl: string, userId: string, rows?: number }} options `databaseUrl` is a direct Postgres
 *   connection string (not the WebSocket bridge)
 * @returns {Promise<{ rows: number, dailyRows: number, seconds: number }>} rows inserted, rollup rows
 *   written, and the time it took
 * @example
 * const { dailyRows } = await seedUsageRows({ databaseUrl: stack.DIRECT_DATABASE_URL, userId: user.id });
 */
export const seedUsageRows = async ({ databaseUrl, userId, rows = 1_000_000 }) => {
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`rows must be a positive integer, not ${rows}`);
  const started = performance.now();
  // Tags this run's rows so the rollup is summed from them alone, and keeps their ids unique across runs.
  const run = `bench_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("begin");
    await client.query(
      `with models (n, provider, model, input_price, output_price) as (values ${valuesList(MODELS)}),
            services (n, service) as (values ${valuesList(SERVICES.map((service) => [service]))}),
            calls as (
              select g,
                     floor(random() * ${MODELS.length})::int as model_n,
                     floor(random() * ${SERVICES.length})::int as service_n,
                     200 + floor(random() * 4000)::int as tokens_input,
                     20 + floor(random() * 1000)::int as tokens_output,
                     random() < 0.1 as cached,
                     now() - random() * interval '365 days' as at
              from generate_series(1, $2::int) as g
            )
       insert into usage_records
         (id, user_id, service, provider, model, tokens_input, tokens_output, cost_usd, latency_ms, ttft_ms, cached,
          request_id, created_at)
       select 'use_' || $3 || '_' || c.g, $1, s.service, m.provider, m.model, c.tokens_input, c.tokens_output,
              case when c.cached then 0
                   else round((c.tokens_input * m.input_price + c.tokens_output * m.output_price) / 1e6, 8) end,
              case when c.cached then 5 else 150 + floor(random() * 3000)::int end,
              case when c.cached then null else 80 + floor(random() * 600)::int end,
              c.cached, $3 || '_' || c.g, c.at
       from calls c
       join models m on m.n = c.model_n
       join services s on s.n = c.service_n`,
      [userId, rows, run],
    );
    const daily = await client.query(
      `insert into usage_daily
         (user_id, day, service, provider, model, requests, tokens_input, tokens_output, cost_usd, cache_hits)
       select user_id, (created_at at time zone 'UTC')::date, service, provider, model, count(*),
              sum(tokens_input), sum(tokens_output), sum(cost_usd), count(*) filter (where cached)
       from usage_records
       where user_id = $1 and request_id like $2
       group by 1, 2, 3, 4, 5
       on conflict (user_id, day, service, provider, model) do update set
         requests = usage_daily.requests + excluded.requests,
         tokens_input = usage_daily.tokens_input + excluded.tokens_input,
         tokens_output = usage_daily.tokens_output + excluded.tokens_output,
         cost_usd = usage_daily.cost_usd + excluded.cost_usd,
         cache_hits = usage_daily.cache_hits + excluded.cache_hits`,
      [userId, `${run}\\_%`],
    );
    await client.query("commit");
    // Fresh statistics, so the benchmark's first queries are planned as they would be on a settled table.
    await client.query("analyze usage_records, usage_daily");
    return { rows, dailyRows: daily.rowCount ?? 0, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
};
