import { type FormEvent, useState } from "react";
import { api, unwrap } from "../../api/client";
import { ErrorBanner } from "../../components/ui";
import { useAction } from "../../lib/use-action";

import { AuthCard } from "./AuthCard";
import { EmailField } from "./fields";

export const ForgotPassword = () => {
  const { busy, error, run } = useAction();
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await run(() => unwrap(api.POST("/auth/forgot-password", { body: { email } })))) setSent(true);
  };
  return (
    <AuthCard title="Reset your password">
      {sent ? (
        <p role="status">
          If an account uses {email}, a link to choose a new password is on its way. It works for 30 minutes.
        </p>
      ) : (
        <form onSubmit={submit} className="stack">
          <ErrorBanner error={error} />
          <EmailField value={email} onChange={setEmail} />
          <button type="submit" disabled={busy}>
            Send the link
          </button>
        </form>
      )}
      <p>
        <a href="/sign-in">Back to sign in</a>
      </p>
    </AuthCard>
  );
};
