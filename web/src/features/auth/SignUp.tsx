import { type FormEvent, useState } from "react";
import { ErrorBanner } from "../../components/ui";
import { useAuth } from "../../lib/auth";
import { useAction } from "../../lib/use-action";

import { AuthCard } from "./AuthCard";
import { EmailField, PasswordField } from "./fields";

export const SignUp = () => {
  const { signUp } = useAuth();
  const { busy, error, run } = useAction();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(() => signUp(email, password, name));
  };
  return (
    <AuthCard title="Create an account">
      <form onSubmit={submit} className="stack">
        <ErrorBanner error={error} />
        <label>
          Name <span className="muted">(optional)</span>
          <input autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <EmailField value={email} onChange={setEmail} />
        <PasswordField kind="new" hint="password-hint" value={password} onChange={setPassword} />
        <p id="password-hint" className="hint">
          8 to 128 characters, not a common password.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
      <p>
        Have an account? <a href="/sign-in">Sign in</a>
      </p>
    </AuthCard>
  );
};
