import { type FormEvent, useState } from "react";
import { api, unwrap } from "../api/client";
import { ErrorBanner } from "../components/ui";
import { useAuth } from "../lib/auth";
import { useAction } from "../lib/hooks";
import { navigate } from "../lib/router";

const AuthCard = ({ title, children }: { title: string; children: React.ReactNode }) => (
  <section className="auth-card">
    <h1>
      <span aria-hidden="true">APE</span> {title}
    </h1>
    {children}
  </section>
);

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
        <label>
          Email
          <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            aria-describedby="password-hint"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
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
          <label>
            Email
            <input
              type="email"
              autoComplete="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </label>
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
          <label>
            New password
            <input
              type="password"
              autoComplete="new-password"
              required
              minLength={8}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
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
