// The data layer: one TanStack Query client for the app, and the cache key of every resource, so a mutation
// invalidates exactly what it changed (a conversation's messages, the list of documents…).
import { QueryClient } from "@tanstack/react-query";
import { ProblemError } from "../api/client";

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx (not found, forbidden) will not change by asking again; a network failure might.
      retry: (count, error) =>
        count < 2 && !(error instanceof ProblemError && error.status >= 400 && error.status < 500),
      // Data is shown from the cache at once and asked for again whenever a screen opens (TanStack's default):
      // what another screen did (a model call, a redelivery) shows without a reload.
      staleTime: 0,
      refetchOnWindowFocus: false,
    },
  },
});

/** Cache keys, per resource: a prefix (`keys.conversations.all`) invalidates everything under it. */
export const keys = {
  models: ["models"] as const,
  conversations: {
    all: ["conversations"] as const,
    list: (q: string) => ["conversations", "list", q] as const,
    one: (id: string) => ["conversations", "one", id] as const,
    messages: (id: string) => ["conversations", "messages", id] as const,
  },
  documents: {
    all: ["documents"] as const,
    list: ["documents", "list"] as const,
    one: (id: string) => ["documents", "one", id] as const,
    text: (id: string, page: number) => ["documents", "text", id, page] as const,
  },
  research: {
    all: ["research"] as const,
    list: ["research", "list"] as const,
    one: (id: string) => ["research", "one", id] as const,
  },
  extraction: {
    all: ["extraction"] as const,
    list: ["extraction", "list"] as const,
    one: (id: string) => ["extraction", "one", id] as const,
    rows: (id: string, valid: string) => ["extraction", "rows", id, valid] as const,
  },
  account: {
    apiKeys: ["account", "api-keys"] as const,
    audit: ["account", "audit"] as const,
    webhooks: ["account", "webhooks"] as const,
    usage: (params: object) => ["account", "usage", params] as const,
  },
};

// Every query and mutation fails with a ProblemError: `unwrap` and the uploads turn whatever failed into one.
declare module "@tanstack/react-query" {
  interface Register {
    defaultError: ProblemError;
  }
}
