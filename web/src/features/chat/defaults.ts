// What a new conversation starts with (model, instructions, documents), remembered in localStorage from the
// last one started: a preference, not a secret.
export type ChatDefaults = { model: string; systemPrompt: string; documentIds: string[] };

const KEY = "ape.chat.defaults";
const EMPTY: ChatDefaults = { model: "auto", systemPrompt: "", documentIds: [] };

export const loadDefaults = (): ChatDefaults => {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "null") as Partial<ChatDefaults> | null;
    return {
      model: typeof saved?.model === "string" ? saved.model : EMPTY.model,
      systemPrompt: typeof saved?.systemPrompt === "string" ? saved.systemPrompt : "",
      documentIds: Array.isArray(saved?.documentIds) ? saved.documentIds.filter((id) => typeof id === "string") : [],
    };
  } catch {
    return EMPTY;
  }
};

export const saveDefaults = (defaults: ChatDefaults) => localStorage.setItem(KEY, JSON.stringify(defaults));
