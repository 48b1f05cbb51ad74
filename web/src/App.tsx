import { QueryClientProvider } from "@tanstack/react-query";
import { lazy, type ReactNode, Suspense, useEffect, useState } from "react";
import { API_URL } from "./api/client";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { Loading } from "./components/ui";
import { ForgotPassword } from "./features/auth/ForgotPassword";
import { ResetPassword } from "./features/auth/ResetPassword";
import { SignIn } from "./features/auth/SignIn";
import { SignUp } from "./features/auth/SignUp";
import { AuthProvider, useAuth } from "./lib/auth";
import { queryClient } from "./lib/query";
import { navigate, useLocation } from "./lib/router";
import { applyTheme, loadTheme, type Theme } from "./lib/theme";

// Each signed-in screen is its own chunk, so signing in does not load the charts or the highlighter.
const ChatPage = lazy(() => import("./features/chat/ChatPage").then((m) => ({ default: m.ChatPage })));
const CodeTools = lazy(() => import("./features/code/CodeTools").then((m) => ({ default: m.CodeTools })));
const DocumentList = lazy(() => import("./features/documents/DocumentList").then((m) => ({ default: m.DocumentList })));
const DocumentDetail = lazy(() =>
  import("./features/documents/DocumentDetail").then((m) => ({ default: m.DocumentDetail })),
);
const ExtractionList = lazy(() =>
  import("./features/extraction/ExtractionList").then((m) => ({ default: m.ExtractionList })),
);
const NewExtraction = lazy(() =>
  import("./features/extraction/NewExtraction").then((m) => ({ default: m.NewExtraction })),
);
const ExtractionJob = lazy(() =>
  import("./features/extraction/ExtractionJob").then((m) => ({ default: m.ExtractionJob })),
);
const ResearchList = lazy(() => import("./features/research/ResearchList").then((m) => ({ default: m.ResearchList })));
const NewResearch = lazy(() => import("./features/research/NewResearch").then((m) => ({ default: m.NewResearch })));
const ResearchSession = lazy(() =>
  import("./features/research/ResearchSession").then((m) => ({ default: m.ResearchSession })),
);
const SettingsPage = lazy(() => import("./features/settings/SettingsPage").then((m) => ({ default: m.SettingsPage })));
const UsagePage = lazy(() => import("./features/usage/UsagePage").then((m) => ({ default: m.UsagePage })));

const NAV = [
  ["/chat", "Chat"],
  ["/documents", "Documents"],
  ["/extraction", "Extraction"],
  ["/research", "Research"],
  ["/code", "Code"],
  ["/usage", "Usage"],
  ["/settings", "Settings"],
] as const;

const PUBLIC = ["/sign-in", "/sign-up", "/forgot-password", "/reset-password"];

const ThemeToggle = () => {
  const [theme, setTheme] = useState<Theme>(loadTheme);
  useEffect(() => applyTheme(theme), [theme]);
  return (
    <label className="theme-toggle">
      <span className="visually-hidden">Theme</span>
      <select value={theme} onChange={(e) => setTheme(e.target.value as Theme)}>
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
};

const Shell = ({ children, path }: { children: ReactNode; path: string }) => {
  const { user, signOut } = useAuth();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href={user ? "/chat" : "/sign-in"}>
          APE
        </a>
        {user && (
          <nav aria-label="Main">
            <ul>
              {NAV.map(([href, label]) => (
                <li key={href}>
                  <a href={href} aria-current={path.startsWith(href) ? "page" : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <div className="topbar-end">
          <ThemeToggle />
          {user && (
            <button
              type="button"
              className="secondary"
              onClick={async () => {
                await signOut();
                navigate("/sign-in");
              }}
            >
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer className="footer">
        <a href={`${API_URL}/api/v1/docs`}>API reference</a>
      </footer>
    </>
  );
};

const Routes = () => {
  const { user, ready } = useAuth();
  const { path, search } = useLocation();
  const isPublic = PUBLIC.includes(path);

  useEffect(() => {
    if (!ready) return;
    if (!user && !isPublic)
      navigate(`/sign-in${path !== "/" ? `?next=${encodeURIComponent(path + search)}` : ""}`, true);
    else if (user && (path === "/" || path === "/sign-in" || path === "/sign-up")) {
      const next = new URLSearchParams(search).get("next");
      navigate(next?.startsWith("/") ? next : "/chat", true);
    }
  }, [ready, user, isPublic, path, search]);

  useEffect(() => {
    const title = NAV.find(([href]) => path.startsWith(href))?.[1];
    document.title = title ? `${title} · APE` : "APE — AI Productivity Engine";
  }, [path]);

  if (!ready) return <Loading label="Starting APE…" />;
  const parts = path.split("/").filter(Boolean);
  const [section, id, sub] = parts;
  switch (section) {
    case "sign-in":
      return <SignIn />;
    case "sign-up":
      return <SignUp />;
    case "forgot-password":
      return <ForgotPassword />;
    case "reset-password":
      return <ResetPassword token={new URLSearchParams(search).get("token") ?? ""} />;
  }
  if (!user) return <Loading />;
  switch (section) {
    case "chat":
      return <ChatPage conversationId={id} />;
    case "documents":
      return id ? (
        <DocumentDetail id={id} page={Number(new URLSearchParams(search).get("page") ?? 1)} />
      ) : (
        <DocumentList />
      );
    case "extraction":
      return id === "new" ? <NewExtraction /> : id ? <ExtractionJob id={id} /> : <ExtractionList />;
    case "research":
      return id === "new" ? <NewResearch /> : id ? <ResearchSession id={id} /> : <ResearchList />;
    case "code":
      return <CodeTools tool={id} />;
    case "usage":
      return <UsagePage />;
    case "settings":
      return <SettingsPage tab={id ?? sub} />;
    default:
      return (
        <section className="page">
          <h1>Page not found</h1>
          <p>
            Nothing lives at <code>{path}</code>. <a href="/chat">Go to chat</a>.
          </p>
        </section>
      );
  }
};

const Framed = () => {
  const { path } = useLocation();
  return (
    <Shell path={path}>
      <ErrorBoundary resetKey={path}>
        <Suspense fallback={<Loading />}>
          <Routes />
        </Suspense>
      </ErrorBoundary>
    </Shell>
  );
};

export const App = () => (
  <QueryClientProvider client={queryClient}>
    <AuthProvider>
      <Framed />
    </AuthProvider>
  </QueryClientProvider>
);
