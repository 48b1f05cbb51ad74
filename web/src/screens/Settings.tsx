import { type FormEvent, useState } from "react";
import { api, type Schemas, unwrap } from "../api/client";
import { Empty, ErrorBanner, formatDate, Loading, PageHeader, StatusBadge } from "../components/ui";
import { useAuth } from "../lib/auth";
import { useAction, useLoad } from "../lib/hooks";

type Scope = Schemas["CreateApiKeyRequest"]["scopes"][number];
const SCOPES: Scope[] = ["chat", "research", "extraction", "code", "documents", "read"];
type EventType = Schemas["CreateWebhookEndpointRequest"]["event_types"][number];
const EVENTS: EventType[] = [
  "extraction.completed",
  "extraction.failed",
  "research.completed",
  "research.failed",
  "document.ready",
  "document.failed",
];

const CopyOnce = ({ label, value }: { label: string; value: string }) => {
  const [copied, setCopied] = useState(false);
  return (
    <div className="banner success" role="status">
      <p>
        <strong>{label}</strong> It is shown only this once: copy it now.
      </p>
      <div className="row">
        <code className="secret" data-testid="secret">
          {value}
        </code>
        <button
          type="button"
          onClick={async () => {
            await navigator.clipboard?.writeText(value).catch(() => undefined);
            setCopied(true);
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
    </div>
  );
};

const Profile = () => {
  const { user, setUser } = useAuth();
  const [name, setName] = useState(user?.name ?? "");
  const { busy, error, run } = useAction();
  const [saved, setSaved] = useState(false);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const updated = await run(() => unwrap(api.PUT("/users/me", { body: { name: name.trim() || null } })));
    if (updated) {
      setUser(updated);
      setSaved(true);
    }
  };
  return (
    <form className="card stack" onSubmit={save}>
      <h2>Profile</h2>
      <ErrorBanner error={error} />
      <p>
        Signed in as <strong>{user?.email}</strong>{" "}
        {user?.is_verified ? "" : <span className="muted">(not verified)</span>}
      </p>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button type="submit" disabled={busy}>
        Save profile
      </button>
      {saved && <p role="status">Saved.</p>}
    </form>
  );
};

const ApiKeys = () => {
  const keys = useLoad(() => unwrap(api.GET("/users/me/api-keys", { params: { query: { limit: 100 } as never } })), []);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(["read"]);
  const [created, setCreated] = useState<string | null>(null);
  const { busy, error, run } = useAction();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    const key = await run(() => unwrap(api.POST("/users/me/api-keys", { body: { name, scopes } })));
    if (key) {
      setCreated((key as { key: string }).key);
      setName("");
      await keys.reload();
    }
  };
  return (
    <div className="card stack">
      <h2>API keys</h2>
      <ErrorBanner error={error ?? keys.error} />
      {created && <CopyOnce label="Your new API key." value={created} />}
      <form className="stack" onSubmit={create}>
        <label>
          Key name
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="My script" />
        </label>
        <fieldset className="checklist">
          <legend>Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s} className="check">
              <input
                type="checkbox"
                checked={scopes.includes(s)}
                onChange={(e) => setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))}
              />
              {s}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={busy || scopes.length === 0}>
          Create key
        </button>
      </form>
      {keys.loading ? (
        <Loading />
      ) : keys.data?.items.length ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Scopes</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.items.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{k.scopes.join(", ")}</td>
                  <td>{k.revoked_at ? "revoked" : formatDate(k.last_used_at)}</td>
                  <td>
                    {!k.revoked_at && (
                      <button
                        type="button"
                        className="danger small"
                        aria-label={`Revoke ${k.name}`}
                        onClick={() =>
                          void run(async () => {
                            await unwrap(api.DELETE("/users/me/api-keys/{id}", { params: { path: { id: k.id } } }));
                            await keys.reload();
                          })
                        }
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <Empty>No API keys yet.</Empty>
      )}
    </div>
  );
};

const Deliveries = ({ endpointId }: { endpointId: string }) => {
  const list = useLoad(
    () => unwrap(api.GET("/users/me/webhooks/{id}/deliveries", { params: { path: { id: endpointId } } })),
    [endpointId],
    {
      ms: 2000,
      while: (p) => p.items.some((d) => d.status === "pending" || d.status === "sending"),
    },
  );
  const { error, run } = useAction();
  return (
    <div className="deliveries">
      <h4>Deliveries</h4>
      <ErrorBanner error={error ?? list.error} />
      {list.loading && !list.data ? (
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
                      await list.reload();
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
      <button type="button" className="link" onClick={() => void list.reload()}>
        Refresh deliveries
      </button>
    </div>
  );
};

const Webhooks = () => {
  const hooks = useLoad(() => unwrap(api.GET("/users/me/webhooks")), []);
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
      await hooks.reload();
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
      {hooks.loading ? (
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
                      await hooks.reload();
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

export const Settings = ({ tab }: { tab?: string }) => {
  const current = tab === "api-keys" || tab === "webhooks" ? tab : "profile";
  return (
    <section className="page">
      <PageHeader title="Settings" />
      <nav aria-label="Settings" className="tabs">
        <a href="/settings" aria-current={current === "profile" ? "page" : undefined}>
          Profile
        </a>
        <a href="/settings/api-keys" aria-current={current === "api-keys" ? "page" : undefined}>
          API keys
        </a>
        <a href="/settings/webhooks" aria-current={current === "webhooks" ? "page" : undefined}>
          Webhooks
        </a>
      </nav>
      {current === "profile" && <Profile />}
      {current === "api-keys" && <ApiKeys />}
      {current === "webhooks" && <Webhooks />}
    </section>
  );
};
