// The first message of a conversation started from the "Message APE" box: the conversation is created there,
// and its screen, once open, sends this (and takes it, so a reload never sends it twice).
const pending = new Map<string, string>();

export const handOver = (conversationId: string, content: string) => pending.set(conversationId, content);

export const takeFirstMessage = (conversationId: string) => {
  const content = pending.get(conversationId);
  pending.delete(conversationId);
  return content;
};
