import { type FormEvent, useState } from "react";
import { api, unwrap } from "../../api/client";
import { ErrorBanner } from "../../components/ui";
import { useAuth } from "../../lib/auth";
import { useAction } from "../../lib/use-action";

export const Profile = () => {
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
