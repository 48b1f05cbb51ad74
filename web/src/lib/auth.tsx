import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from "react";
import { api, type Schemas, unwrap } from "../api/client";
import { onSessionChange, refresh, setSession } from "./session";

type User = Schemas["User"];
type AuthState = {
  user: User | null;
  ready: boolean;
  signIn: (email: string, password: string) => Promise<void>;
  signUp: (email: string, password: string, name?: string) => Promise<void>;
  signOut: () => Promise<void>;
  setUser: (user: User) => void;
};

const AuthContext = createContext<AuthState | null>(null);

export const useAuth = () => {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
};

export const AuthProvider = ({ children }: { children: ReactNode }) => {
  const [user, setUser] = useState<User | null>(null);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    // A reload keeps the session: the HttpOnly cookie trades for a new access token.
    void (async () => {
      if (await refresh()) {
        try {
          setUser(await unwrap(api.GET("/users/me")));
        } catch {
          setSession(null);
        }
      }
      setReady(true);
    })();
    const stop = onSessionChange((signedIn) => {
      if (!signedIn) setUser(null);
    });
    return () => {
      stop();
    };
  }, []);

  const accept = useCallback((result: Schemas["AuthResult"]) => {
    setSession(result.tokens.access_token, result.tokens.expires_in);
    setUser(result.user);
  }, []);

  const signIn = useCallback(
    async (email: string, password: string) => {
      accept(await unwrap(api.POST("/auth/login", { body: { email, password }, credentials: "include" })));
    },
    [accept],
  );
  const signUp = useCallback(
    async (email: string, password: string, name?: string) => {
      accept(
        await unwrap(
          api.POST("/auth/register", { body: { email, password, name: name || undefined }, credentials: "include" }),
        ),
      );
    },
    [accept],
  );
  const signOut = useCallback(async () => {
    await api.POST("/auth/logout", { credentials: "include" }).catch(() => undefined);
    setSession(null);
  }, []);

  return (
    <AuthContext.Provider value={{ user, ready, signIn, signUp, signOut, setUser }}>{children}</AuthContext.Provider>
  );
};
