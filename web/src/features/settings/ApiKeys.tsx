import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, type Schemas, unwrap } from "../../api/client";
import { Empty, ErrorBanner, formatDate, Loading } from "../../components/ui";
import { keys as queryKeys } from "../../lib/query";
import { useAction } from "../../lib/use-action";
import { CopyOnce } from "./CopyOnce";

type Scope = Schemas["CreateApiKeyRequest"]["scopes"][number];
const SCOPES: Scope[] = ["chat", "research", "extraction", "code", "documents", "read"];

export const ApiKeys = () => {
  const client = useQueryClient();
  const keys = useQuery({
    queryKey: queryKeys.account.apiKeys,
    queryFn: () => unwrap(api.GET("/users/me/api-keys", { params: { query: { limit: 100 } as never } })),
  });
  const reload = () => client.invalidateQueries({ queryKey: queryKeys.account.apiKeys });
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
      await reload();
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
      {keys.isPending ? (
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
                            await reload();
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
