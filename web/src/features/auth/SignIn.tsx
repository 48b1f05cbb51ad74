import { type FormEvent, useState } from "react";
import { ErrorBanner } from "../../components/ui";
import { useAuth } from "../../lib/auth";
import { useAction } from "../../lib/use-action";

import { AuthCard } from "./AuthCard";

export const SignIn = () => {
  const { signIn } = useAuth();
  const { busy, error, run } = useAction();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(() => signIn(email, password));
  };
  return (
    <AuthCard title="Sign in">
      <form onSubmit={submit} className="stack">
        <ErrorBanner error={error} />
        <label>
          Email
          <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        <a href="/forgot-password">Forgot your password?</a> · New here? <a href="/sign-up">Create an account</a>
      </p>
    </AuthCard>
  );
};
