import { eq } from "drizzle-orm";
import { researchSessions } from "../../db/schema/index.js";
import type { ServiceContext } from "../context.js";
import { eventsAfter } from "./events.js";
import { requireSession } from "./sessions.js";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const POLL_MS = 1000;
const KEEP_ALIVE_MS = 15_000;
/** A stream ends after this long even if the session has not; the client resumes it with `Last-Event-ID`. */
const MAX_STREAM_MS = 10 * 60 * 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A session's progress as server-sent events: every event after `lastEventId` (0: from the start), each with
 * `id: <seq>` so a reconnect with `Last-Event-ID` resumes after it, then new ones as the run writes them
 * (keep-alive comments while it is quiet). Once the session is completed, failed or cancelled, the remaining
 * events are sent and a final `done` event (no id) with the status, and the stream ends.
 * @example
 * const stream = await streamSessionEvents({ ctx, id, lastEventId: 12 });
 */
export const streamSessionEvents = async ({
  ctx,
  id,
  lastEventId,
}: {
  ctx: ServiceContext;
  id: string;
  lastEventId: number;
}): Promise<ReadableStream<Uint8Array>> => {
  const session = await requireSession({ ctx, id });
  const encoder = new TextEncoder();
  let closed = false;
  let settle: () => void = () => {};
  // The request's clean-up (which closes the database) waits until the stream is over.
  ctx.defer(new Promise<void>((resolve) => (settle = resolve)));
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      let last = lastEventId;
      let lastWrite = Date.now();
      const started = Date.now();
      const send = (text: string) => {
        controller.enqueue(encoder.encode(text));
        lastWrite = Date.now();
      };
      const drain = async () => {
        for (;;) {
          const rows = await eventsAfter(ctx, session.id, last);
          for (const row of rows) {
            send(`id: ${row.seq}\nevent: ${row.type}\ndata: ${JSON.stringify(row.data)}\n\n`);
            last = row.seq;
          }
          if (rows.length < 200) return;
        }
      };
      try {
        send("retry: 2000\n\n");
        while (!closed) {
          await drain();
          const [row] = await ctx.db
            .select({ status: researchSessions.status })
            .from(researchSessions)
            .where(eq(researchSessions.id, session.id));
          const status = row?.status ?? "deleted";
          if (TERMINAL.has(status) || status === "deleted") {
            // Events written between the read above and the status read come out before `done`.
            await drain();
            send(`event: done\ndata: ${JSON.stringify({ status })}\n\n`);
            break;
          }
          if (Date.now() - started > MAX_STREAM_MS) break;
          await sleep(POLL_MS);
          if (Date.now() - lastWrite >= KEEP_ALIVE_MS) send(": keep-alive\n\n");
        }
        if (!closed) controller.close();
      } catch (error) {
        ctx.log.warn("research event stream ended", { researchId: session.id, error });
        if (!closed) controller.error(error);
      } finally {
        settle();
      }
    },
    cancel() {
      closed = true;
    },
  });
};
