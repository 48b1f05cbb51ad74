// Server-sent events over fetch (EventSource cannot send an Authorization header).
import { problemFromResponse } from "../api/client";
import { authFetch } from "./session";

export type SseEvent = { id?: string; event: string; data: string };

/** Reads an SSE response to its end, calling `onEvent` for each event. */
export const readSse = async (response: Response, onEvent: (event: SseEvent) => void) => {
  if (!response.ok || !response.body) throw await problemFromResponse(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, "\n");
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { event: "message", data: "" };
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event.event = value;
        else if (field === "data") data.push(value);
        else if (field === "id") event.id = value;
      }
      event.data = data.join("\n");
      if (data.length || event.id) onEvent(event);
      end = buffer.indexOf("\n\n");
    }
  }
};

/** Opens an SSE stream with the session's token and reads it. */
export const streamSse = async (
  url: string,
  init: RequestInit,
  onEvent: (event: SseEvent) => void,
  signal?: AbortSignal,
) => {
  const headers = new Headers(init.headers);
  headers.set("accept", "text/event-stream");
  const response = await authFetch(new Request(url, { ...init, headers, signal: signal ?? null }));
  await readSse(response, onEvent);
};
