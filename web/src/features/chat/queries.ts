import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas, unwrap } from "../../api/client";
import { keys } from "../../lib/query";

export type Conversation = Schemas["Conversation"];
export type Message = Schemas["Message"];

/** The caller's conversations, newest first; `q` keeps those whose title contains it. */
export const useConversations = (q: string) =>
  useQuery({
    queryKey: keys.conversations.list(q),
    queryFn: () => unwrap(api.GET("/chat/conversations", { params: { query: { limit: 50, q: q || undefined } } })),
  });

/**
 * One conversation. A title is made after the first answer, so while a conversation that has messages has
 * none, it is asked again every second for a while.
 */
export const useConversation = (id: string) =>
  useQuery({
    queryKey: keys.conversations.one(id),
    queryFn: () => unwrap(api.GET("/chat/conversations/{id}", { params: { path: { id } } })),
    refetchInterval: (query) => {
      const c = query.state.data;
      return c && !c.title && c.message_count >= 2 && query.state.dataUpdateCount < 20 ? 1000 : false;
    },
  });

/** Every message of a conversation, oldest first (all pages). */
export const useMessages = (id: string) =>
  useQuery({
    queryKey: keys.conversations.messages(id),
    queryFn: async () => {
      const all: Message[] = [];
      let cursor: string | undefined;
      do {
        const page = await unwrap(
          api.GET("/chat/conversations/{id}/messages", { params: { path: { id }, query: { limit: 200, cursor } } }),
        );
        all.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return all;
    },
  });

/** The models the API's providers offer (`auto` first). */
export const useModels = () =>
  useQuery({
    queryKey: keys.models,
    queryFn: async () => (await unwrap(api.GET("/openai/models"))).data.map((m) => m.id),
    staleTime: 5 * 60_000,
  });

type NewConversation = { model: string; system_prompt?: string | undefined; document_ids: string[] };

export const useCreateConversation = () => {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: NewConversation) => unwrap(api.POST("/chat/conversations", { body })),
    onSuccess: (created) => {
      client.setQueryData(keys.conversations.one(created.id), created);
      void client.invalidateQueries({ queryKey: keys.conversations.all, exact: false, refetchType: "active" });
    },
  });
};

type Changes = {
  title?: string | null;
  model?: string;
  system_prompt?: string | null;
  document_ids?: string[] | "all";
};

export const useUpdateConversation = () => {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, changes }: { id: string; changes: Changes }) =>
      unwrap(api.PATCH("/chat/conversations/{id}", { params: { path: { id } }, body: changes })),
    onSuccess: (updated) => {
      client.setQueryData(keys.conversations.one(updated.id), updated);
      void client.invalidateQueries({ queryKey: ["conversations", "list"] });
    },
  });
};

export const useDeleteConversation = () => {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/chat/conversations/{id}", { params: { path: { id } } })),
    onSuccess: (_, id) => {
      client.removeQueries({ queryKey: keys.conversations.one(id) });
      client.removeQueries({ queryKey: keys.conversations.messages(id) });
      void client.invalidateQueries({ queryKey: ["conversations", "list"] });
    },
  });
};

/** Deletes a message and every later one (the start of regenerate and edit), and drops them from the cache. */
export const useDeleteMessagesFrom = () => {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, messageId }: { id: string; messageId: string }) =>
      unwrap(
        api.DELETE("/chat/conversations/{id}/messages/{message_id}", {
          params: { path: { id, message_id: messageId } },
        }),
      ),
    onSuccess: (_, { id, messageId }) => {
      client.setQueryData<Message[]>(keys.conversations.messages(id), (all) => all?.filter((m) => m.id < messageId));
    },
  });
};
