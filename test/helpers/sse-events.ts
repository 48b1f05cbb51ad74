/** Reading a turn's server-sent events in tests, the way a client does. */

export type SseEvent = { id: string; event: string; data: unknown };

/**
 * Reads server-sent events from a response to its end, or until `stopAfter` says so (the connection is then
 * dropped, as a client that goes away does).
 */
export const readEvents = async (res: Response, stopAfter?: (events: SseEvent[]) => boolean) => {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const field = (name: string) => block.match(new RegExp(`^${name}: (.*)$`, "m"))?.[1] ?? "";
      events.push({ id: field("id"), event: field("event"), data: JSON.parse(field("data") || "null") });
      end = buffer.indexOf("\n\n");
    }
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
