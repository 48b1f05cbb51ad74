import { type FormEvent, useState } from "react";
import { api, unwrap } from "../../api/client";
import { ErrorBanner } from "../../components/ui";
import { navigate } from "../../lib/router";
import { useAction } from "../../lib/use-action";

import { AuthCard } from "./AuthCard";
import { PasswordField } from "./fields";

export const ResetPassword = ({ token }: { token: string }) => {
  const { busy, error, run } = useAction();
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await run(async () => {
      await unwrap(api.POST("/auth/reset-password", { body: { token, password } }));
      return true;
    });
    if (ok) setDone(true);
  };
  return (
    <AuthCard title="Choose a new password">
      {done ? (
        <p role="status">
          Your password is changed and every session was signed out. <a href="/sign-in">Sign in</a> with the new one.
        </p>
      ) : !token ? (
        <p className="banner error" role="alert">
          This page needs the link from the email. <a href="/forgot-password">Ask for a new one</a>.
        </p>
      ) : (
        <form onSubmit={submit} className="stack">
          <ErrorBanner error={error} />
          <PasswordField label="New password" kind="new" value={password} onChange={setPassword} />
          <button type="submit" disabled={busy}>
            Set the password
          </button>
        </form>
      )}
      <p>
        <a href="/sign-in" onClick={() => navigate("/sign-in")}>
          Back to sign in
        </a>
      </p>
    </AuthCard>
  );
};
