// The signed-in session. The access token lives in memory only; the refresh token never reaches script: the
// API keeps it in the HttpOnly `ape_refresh` cookie (Path=/api/v1/auth, SameSite=Strict), and a refresh is a
// POST with credentials and an empty body. After a reload the session comes back through that cookie.
type Listener = (signedIn: boolean) => void;

let accessToken: string | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<boolean> | null = null;
const listeners = new Set<Listener>();

declare global {
  interface Window {
    APE_CONFIG?: { apiUrl?: string };
  }
}

/** The API's origin: /config.js at run time, else VITE_APE_API_URL at build time, else the local API. */
export const apiOrigin = () =>
  (window.APE_CONFIG?.apiUrl || import.meta.env.VITE_APE_API_URL || "http://127.0.0.1:8787").replace(/\/$/, "");
const apiBase = () => `${apiOrigin()}/api/v1`;

export const onSessionChange = (listener: Listener) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

export const getAccessToken = () => accessToken;

/** Keeps a new access token and schedules the next silent refresh a minute before it expires. */
export const setSession = (token: string | null, expiresInSeconds = 900) => {
  accessToken = token;
  clearTimeout(refreshTimer);
  if (token) refreshTimer = setTimeout(() => void refresh(), Math.max(10, expiresInSeconds - 60) * 1000);
  for (const listener of listeners) listener(Boolean(token));
};

const doRefresh = async () => {
  try {
    const res = await fetch(`${apiBase()}/auth/refresh`, {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    if (!res.ok) {
      setSession(null);
      return false;
    }
    const pair = (await res.json()) as { access_token: string; expires_in: number };
    setSession(pair.access_token, pair.expires_in);
    return true;
  } catch {
    return false;
  }
};

/**
 * Trades the cookie for a new access token. One refresh at a time, across tabs too (Web Locks): the refresh
 * token is single use, and two tabs presenting the same one would look like theft and end the session.
 */
export const refresh = (): Promise<boolean> => {
  if (!inFlight) {
    const locks = navigator.locks;
    const locked = locks
      ? new Promise<boolean>((resolve, reject) => {
          locks.request("ape-refresh", () => doRefresh().then(resolve)).catch(reject);
        })
      : doRefresh();
    inFlight = locked.finally(() => {
      inFlight = null;
    });
  }
  return inFlight as Promise<boolean>;
};

/** fetch with the bearer token; a 401 triggers one silent refresh and one retry. */
export const authFetch = async (input: Request): Promise<Response> => {
  const retry = input.clone();
  const send = (request: Request) => {
    const headers = new Headers(request.headers);
    if (accessToken) headers.set("authorization", `Bearer ${accessToken}`);
    return fetch(new Request(request, { headers, credentials: "include" }));
  };
  const first = await send(input);
  const isAuthCall = new URL(input.url).pathname.includes("/auth/");
  if (first.status !== 401 || isAuthCall || !accessToken) return first;
  return (await refresh()) ? send(retry) : first;
};
