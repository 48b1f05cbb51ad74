import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { Empty, ErrorBanner, formatDate, Loading, StatusBadge } from "../../components/ui";
import { keys } from "../../lib/query";
import { useAction } from "../../lib/use-action";

export const Deliveries = ({ endpointId }: { endpointId: string }) => {
  const client = useQueryClient();
  const key = [...keys.account.webhooks, endpointId, "deliveries"];
  const list = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/users/me/webhooks/{id}/deliveries", { params: { path: { id: endpointId } } })),
    refetchInterval: (query) =>
      query.state.data?.items.some((d) => d.status === "pending" || d.status === "sending") ? 2000 : false,
  });
  // A refresh asked while one is on its way waits for that one rather than dropping it.
  const reload = () => client.invalidateQueries({ queryKey: key }, { cancelRefetch: false });
  const { error, run } = useAction();
  return (
    <div className="deliveries">
      <h4>Deliveries</h4>
      <ErrorBanner error={error ?? list.error} />
      {list.isPending ? (
        <Loading />
      ) : list.data?.items.length ? (
        <ul>
          {list.data.items.map((d) => (
            <li key={d.id}>
              <StatusBadge status={d.status} /> {d.event_type} · {d.attempts} attempts
              {d.last_status_code ? ` · HTTP ${d.last_status_code}` : ""}
              {d.last_error ? <span className="error-text"> {d.last_error}</span> : null} · {formatDate(d.created_at)}{" "}
              {(d.status === "failed" || d.status === "succeeded") && (
                <button
                  type="button"
                  className="secondary small"
                  onClick={() =>
                    void run(async () => {
                      await unwrap(
                        api.POST("/users/me/webhooks/deliveries/{id}/redeliver", { params: { path: { id: d.id } } }),
                      );
                      await reload();
                    })
                  }
                >
                  Redeliver
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No deliveries yet.</Empty>
      )}
      <button type="button" className="link" onClick={() => void reload()}>
        Refresh deliveries
      </button>
    </div>
  );
};
