import { useQuery } from "@tanstack/react-query";
import {
  BarElement,
  CategoryScale,
  Chart as ChartJS,
  type ChartOptions,
  Legend,
  LinearScale,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { type FormEvent, useState } from "react";
import { Bar } from "react-chartjs-2";
import { api, type Schemas, unwrap } from "../../api/client";
import { Empty, ErrorBanner, Loading, PageHeader } from "../../components/ui";
import { useAuth } from "../../lib/auth";
import { keys } from "../../lib/query";
import { useAction } from "../../lib/use-action";

ChartJS.register(CategoryScale, LinearScale, BarElement, LineElement, PointElement, Tooltip, Legend);

type Report = Schemas["UsageReport"];
const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

const TokensChart = ({ report, title }: { report: Report; title: string }) => {
  const options: ChartOptions<"bar"> = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: { legend: { position: "bottom" } },
    scales: {
      x: { stacked: true },
      y: { stacked: true, title: { display: true, text: "tokens" } },
      cost: { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "USD" } },
    },
  };
  const labels = report.groups.map((g) => g.key);
  return (
    <figure className="chart card">
      <figcaption>{title}</figcaption>
      <div className="chart-box">
        <Bar
          aria-label={`${title}: ${report.groups.map((g) => `${g.key} ${g.tokens_input + g.tokens_output} tokens, ${usd(g.cost_usd)}`).join("; ")}`}
          options={options}
          data={{
            labels,
            datasets: [
              {
                label: "Tokens in",
                data: report.groups.map((g) => g.tokens_input),
                backgroundColor: "#4f7cff",
                stack: "tokens",
              },
              {
                label: "Tokens out",
                data: report.groups.map((g) => g.tokens_output),
                backgroundColor: "#9db4ff",
                stack: "tokens",
              },
              {
                label: "Cost (USD)",
                data: report.groups.map((g) => g.cost_usd),
                backgroundColor: "#e0a526",
                yAxisID: "cost",
                stack: "cost",
              },
            ],
          }}
        />
      </div>
    </figure>
  );
};

const Budget = ({ spent }: { spent: number }) => {
  const { user, setUser } = useAuth();
  const [value, setValue] = useState(user?.monthly_budget_usd?.toString() ?? "");
  const { busy, error, run } = useAction();
  const budget = user?.monthly_budget_usd ?? null;
  const save = async (e: FormEvent) => {
    e.preventDefault();
    const updated = await run(() =>
      unwrap(api.PUT("/users/me", { body: { monthly_budget_usd: value === "" ? null : Number(value) } })),
    );
    if (updated) setUser(updated);
  };
  return (
    <div className="card">
      <h2>Monthly budget</h2>
      {budget === null ? (
        <p>No budget set: spending is not capped.</p>
      ) : (
        <>
          <p>
            {usd(spent)} of {usd(budget)} used in this period.
          </p>
          <progress max={budget} value={Math.min(spent, budget)} aria-label="Budget used" />
        </>
      )}
      <form className="row" onSubmit={save}>
        <ErrorBanner error={error} />
        <label>
          Budget in USD <span className="muted">(empty for none)</span>
          <input type="number" min={0} step="0.01" value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        <button type="submit" disabled={busy}>
          Save budget
        </button>
      </form>
    </div>
  );
};

export const UsagePage = () => {
  const [from, setFrom] = useState(day(-29));
  const [to, setTo] = useState(day(0));
  const reports = useQuery({
    queryKey: keys.account.usage({ from, to }),
    queryFn: async () => {
      const get = (group_by: "day" | "service" | "model") =>
        unwrap(api.GET("/users/me/usage", { params: { query: { from, to, group_by } } }));
      // One after another: a report flushes the queued usage rows before it reads, and a second report asked
      // while the first is flushing reads before those rows land (seen against wrangler dev).
      const byDay = await get("day");
      const byService = await get("service");
      const byModel = await get("model");
      return { byDay, byService, byModel };
    },
  });
  const t = reports.data?.byDay.totals;
  return (
    <section className="page">
      <PageHeader title="Usage" />
      <div className="row">
        <label>
          From
          <input type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} />
        </label>
      </div>
      <ErrorBanner error={reports.error} />
      {reports.isPending && !reports.data ? (
        <Loading />
      ) : (
        reports.data &&
        t && (
          <>
            <dl className="totals">
              <div>
                <dt>Requests</dt>
                <dd>{t.requests}</dd>
              </div>
              <div>
                <dt>Tokens in</dt>
                <dd>{t.tokens_input.toLocaleString()}</dd>
              </div>
              <div>
                <dt>Tokens in, cached</dt>
                <dd>{t.tokens_input_cached.toLocaleString()}</dd>
              </div>
              <div>
                <dt>Tokens out</dt>
                <dd>{t.tokens_output.toLocaleString()}</dd>
              </div>
              <div>
                <dt>Cost</dt>
                <dd>{usd(t.cost_usd)}</dd>
              </div>
              <div>
                <dt>Cache hits</dt>
                <dd>{t.cache_hits}</dd>
              </div>
            </dl>
            <Budget spent={t.cost_usd} />
            {t.requests === 0 ? (
              <Empty>No usage in these days yet. Chat, research or extract and it shows up here.</Empty>
            ) : (
              <div className="charts">
                <TokensChart report={reports.data.byDay} title="By day" />
                <TokensChart report={reports.data.byService} title="By service" />
                <TokensChart report={reports.data.byModel} title="By model" />
              </div>
            )}
          </>
        )
      )}
    </section>
  );
};
