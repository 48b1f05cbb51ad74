import type { App } from "../../../lib/app.js";
import { registerCancel } from "./cancel.js";
import { registerCreateConversation } from "./create-conversation.js";
import { registerDeleteConversation } from "./delete-conversation.js";
import { registerDeleteMessages } from "./delete-messages.js";
import { registerGetConversation } from "./get-conversation.js";
import { registerListConversations } from "./list-conversations.js";
import { registerListMessages } from "./list-messages.js";
import { registerSendMessage } from "./send-message.js";
import { registerStream } from "./stream.js";
import { registerUpdateConversation } from "./update-conversation.js";

/** Chat: conversations and their messages, at /chat/… (scope `chat`; GET routes also take `read`). */
export const registerChatRoutes = (app: App) => {
  registerListConversations(app);
  registerCreateConversation(app);
  registerGetConversation(app);
  registerUpdateConversation(app);
  registerDeleteConversation(app);
  registerListMessages(app);
  registerSendMessage(app);
  registerDeleteMessages(app);
  registerStream(app);
  registerCancel(app);
};
