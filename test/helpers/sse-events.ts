/** Reading server-sent events in tests the way a client does: through `eventsource-parser`, as the web UI does. */
import { EventSourceParserStream } from "eventsource-parser/stream";

/** One event: its id (undefined when it had none), its name (`message` when it had none) and its parsed data. */
export type SseEvent = { id: string | undefined; event: string; data: unknown };

/**
 * Reads server-sent events from a response to its end, or until `stopAfter` says so (the connection is then
 * dropped, as a client that goes away does).
 */
export const readEvents = async (res: Response, stopAfter?: (events: SseEvent[]) => boolean) => {
  const reader = (res.body as ReadableStream<Uint8Array>)
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  const events: SseEvent[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    events.push({ id: value.id, event: value.event ?? "message", data: JSON.parse(value.data || "null") });
    if (stopAfter?.(events)) {
      await reader.cancel();
      break;
    }
  }
  return events;
};

/** The text of a turn's `delta` events, joined. */
export const deltas = (events: SseEvent[]) =>
  events
    .filter((e) => e.event === "delta")
    .map((e) => (e.data as { text: string }).text)
    .join("");
