// Server-sent events over fetch (EventSource cannot send an Authorization header), parsed by eventsource-parser.
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { problemFromResponse } from "../api/client";
import { authFetch } from "./session";

export type StreamEvent = { id?: string | undefined; event: string; data: string };

/** Reads an SSE response to its end, calling `onEvent` for each event (`message` when it names none). */
export const readEventStream = async (response: Response, onEvent: (event: StreamEvent) => void) => {
  if (!response.ok || !response.body) throw await problemFromResponse(response);
  const parser = createParser({
    onEvent: (message: EventSourceMessage) =>
      onEvent({ id: message.id, event: message.event ?? "message", data: message.data }),
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parser.feed(value);
  }
};

/** Opens an SSE stream with the session's token and reads it to its end. */
export const followEventStream = async (
  url: string,
  init: RequestInit,
  onEvent: (event: StreamEvent) => void,
  signal?: AbortSignal,
) => {
  const headers = new Headers(init.headers);
  headers.set("accept", "text/event-stream");
  const response = await authFetch(new Request(url, { ...init, headers, signal: signal ?? null }));
  await readEventStream(response, onEvent);
};
