import { useEffect, useState } from "react";
import { ErrorBanner } from "../../components/ui";
import { navigate } from "../../lib/router";
import { useReadyDocuments } from "../documents/queries";
import { Composer } from "./Composer";
import { ComposerOptions } from "./ComposerOptions";
import { DropZone } from "./DropZone";
import { type ChatDefaults, loadDefaults, saveDefaults } from "./defaults";
import { handOver } from "./first-message";
import { useCreateConversation } from "./queries";
import { useAttachments } from "./useAttachments";

/**
 * A new chat: the "Message APE" box, with the model, instructions and documents set beside it. Sending
 * starts the conversation (with those settings and any attached files) and opens it, which sends the message.
 */
export const StartChat = () => {
  const [draft, setDraft] = useState("");
  const [settings, setSettings] = useState<ChatDefaults>(loadDefaults);
  const [queued, setQueued] = useState(false);
  const attachments = useAttachments();
  const create = useCreateConversation();
  const ready = useReadyDocuments();

  const start = () => {
    const content = draft.trim();
    saveDefaults(settings);
    create.mutate(
      {
        model: settings.model,
        system_prompt: settings.systemPrompt.trim() || undefined,
        // A remembered document may have been deleted since: only those still there are attached.
        document_ids: [
          ...new Set([
            ...settings.documentIds.filter((id) => ready.data?.some((d) => d.id === id)),
            ...attachments.readyIds,
          ]),
        ],
      },
      {
        onSuccess: (conversation) => {
          handOver(conversation.id, content);
          navigate(`/chat/${conversation.id}`);
        },
      },
    );
  };

  // A message sent while its files are still being read goes once they are.
  // biome-ignore lint/correctness/useExhaustiveDependencies: fires when the attachments settle
  useEffect(() => {
    if (queued && attachments.settled) {
      setQueued(false);
      start();
    }
  }, [queued, attachments.settled]);

  return (
    <DropZone className="chat start" label="New conversation" onFiles={attachments.add}>
      <div className="start-hero">
        <h1>What can APE do for you?</h1>
        <p className="muted">Ask anything, or attach a document and ask about it.</p>
      </div>
      <ErrorBanner error={create.error} />
      <Composer
        draft={draft}
        setDraft={setDraft}
        streaming={false}
        waiting={queued || create.isPending}
        attachments={attachments}
        onSend={() => (attachments.settled ? start() : setQueued(true))}
        options={<ComposerOptions value={settings} onChange={setSettings} />}
      />
    </DropZone>
  );
};
