import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, type Schemas, unwrap } from "../../api/client";
import { Empty, ErrorBanner, Loading, StatusBadge } from "../../components/ui";
import { keys } from "../../lib/query";
import { useAction } from "../../lib/use-action";
import { CopyOnce } from "./CopyOnce";
import { Deliveries } from "./Deliveries";

type EventType = Schemas["CreateWebhookEndpointRequest"]["event_types"][number];
const EVENTS: EventType[] = [
  "extraction.completed",
  "extraction.failed",
  "research.completed",
  "research.failed",
  "document.ready",
  "document.failed",
];

export const Webhooks = () => {
  const client = useQueryClient();
  const hooks = useQuery({ queryKey: keys.account.webhooks, queryFn: () => unwrap(api.GET("/users/me/webhooks")) });
  const reload = () => client.invalidateQueries({ queryKey: keys.account.webhooks });
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<EventType[]>(["extraction.completed", "research.completed"]);
  const [secret, setSecret] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    const hook = await run(() => unwrap(api.POST("/users/me/webhooks", { body: { url, event_types: events } })));
    if (hook) {
      setSecret((hook as { secret: string }).secret);
      setUrl("");
      await reload();
    }
  };
  return (
    <div className="card stack">
      <h2>Webhooks</h2>
      <ErrorBanner error={error ?? hooks.error} />
      {secret && <CopyOnce label="The endpoint's signing secret." value={secret} />}
      <form className="stack" onSubmit={create}>
        <label>
          Endpoint URL
          <input
            type="url"
            required
            value={url}
            placeholder="https://example.com/hooks/ape"
            onChange={(e) => setUrl(e.target.value)}
          />
        </label>
        <fieldset className="checklist">
          <legend>Events</legend>
          {EVENTS.map((ev) => (
            <label key={ev} className="check">
              <input
                type="checkbox"
                checked={events.includes(ev)}
                onChange={(e) => setEvents(e.target.checked ? [...events, ev] : events.filter((x) => x !== ev))}
              />
              {ev}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={busy || events.length === 0}>
          Add endpoint
        </button>
      </form>
      {hooks.isPending ? (
        <Loading />
      ) : hooks.data?.items.length ? (
        <ul className="cards wide">
          {hooks.data.items.map((h) => (
            <li key={h.id} className="card">
              <p>
                <code>{h.url}</code>{" "}
                {h.enabled ? (
                  <StatusBadge status="enabled" />
                ) : (
                  <StatusBadge status={`disabled (${h.disabled_reason})`} />
                )}
              </p>
              <p className="muted">{h.event_types.join(", ")}</p>
              <div className="row">
                <button
                  type="button"
                  className="secondary small"
                  onClick={() =>
                    void run(async () => {
                      await unwrap(api.POST("/users/me/webhooks/{id}/test", { params: { path: { id: h.id } } }));
                      setOpen(h.id);
                    })
                  }
                >
                  Send test event
                </button>
                <button
                  type="button"
                  className="secondary small"
                  onClick={() =>
                    void run(async () => {
                      const r = await unwrap(
                        api.POST("/users/me/webhooks/{id}/rotate", { params: { path: { id: h.id } } }),
                      );
                      setSecret((r as { secret: string }).secret);
                    })
                  }
                >
                  Rotate secret
                </button>
                <button
                  type="button"
                  className="secondary small"
                  aria-expanded={open === h.id}
                  onClick={() => setOpen(open === h.id ? null : h.id)}
                >
                  {open === h.id ? "Hide deliveries" : "Show deliveries"}
                </button>
                <button
                  type="button"
                  className="danger small"
                  onClick={() =>
                    void run(async () => {
                      if (!confirm(`Delete ${h.url}?`)) return;
                      await unwrap(api.DELETE("/users/me/webhooks/{id}", { params: { path: { id: h.id } } }));
                      await reload();
                    })
                  }
                >
                  Delete
                </button>
              </div>
              {open === h.id && <Deliveries endpointId={h.id} />}
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No webhook endpoints yet.</Empty>
      )}
    </div>
  );
};
