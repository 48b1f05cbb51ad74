import { type FormEvent, useState } from "react";
import { ErrorBanner } from "../../components/ui";
import { useAuth } from "../../lib/auth";
import { useAction } from "../../lib/use-action";

import { AuthCard } from "./AuthCard";
import { EmailField, PasswordField } from "./fields";

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
        <EmailField value={email} onChange={setEmail} />
        <PasswordField kind="current" value={password} onChange={setPassword} />
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
