import { ConversationList } from "./ConversationList";
import { ConversationView } from "./ConversationView";
import { StartChat } from "./StartChat";

/** /chat (a new conversation) and /chat/{id}, beside the list of conversations. */
export const ChatPage = ({ conversationId }: { conversationId?: string | undefined }) => (
  <div className="with-sidebar">
    <ConversationList activeId={conversationId} />
    {conversationId ? <ConversationView key={conversationId} id={conversationId} /> : <StartChat />}
  </div>
);
