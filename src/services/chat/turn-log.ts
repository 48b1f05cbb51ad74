import type { RoomEvent } from "./room-types.js";

// Streamed events are written to SQLite once this many wait, or this long after the last write (and all of
// them when the turn ends): every storage write holds the object's outgoing messages until it is durable,
// which per token would delay every delta.
const PERSIST_EVERY = 32;
const PERSIST_EVERY_MS = 1_000;

const encoder = new TextEncoder();
const sse = (turnId: string, seq: number, name: string, data: string) =>
  encoder.encode(`id: ${turnId}.${seq}\nevent: ${name}\ndata: ${data}\n\n`);

type LoggedEvent = { seq: number; name: string; data: string };

/**
 * A room's log of its turns' events, as server-sent events with ids `{turn}.{seq}` (seq counting from 1 in
 * each turn): the running turn's events in memory, written to the room's SQLite in batches, handed to every
 * live follower at once, and replayed from any event id to a client that resumes. Lives in a
 * ConversationRoom; the room owns the turns themselves (the lock, their status).
 * @example
 * const log = new TurnLog(ctx.storage.sql);
 * log.emit(turnId, [{ name: "delta", data: { text: "Hi" } }]);
 */
export class TurnLog {
  private readonly followers = new Map<string, Set<ReadableStreamDefaultController<Uint8Array>>>();
  /** Each running turn's events, in order, and how many of them are in SQLite (and since when). */
  private readonly buffers = new Map<string, LoggedEvent[]>();
  private readonly written = new Map<string, { count: number; at: number }>();

  constructor(private readonly sql: SqlStorage) {
    this.createTable();
  }

  createTable() {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS events (
      turn_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL,
      PRIMARY KEY (turn_id, seq))`);
  }

  /** Hands events of a running turn to its followers at once and keeps them for resuming. */
  emit(turnId: string, events: RoomEvent[]) {
    const buffer = this.bufferOf(turnId);
    const followers = this.followers.get(turnId);
    for (const event of events) {
      const logged = { seq: (buffer.at(-1)?.seq ?? 0) + 1, name: event.name, data: JSON.stringify(event.data) };
      buffer.push(logged);
      const bytes = sse(turnId, logged.seq, logged.name, logged.data);
      for (const controller of followers ?? []) {
        try {
          controller.enqueue(bytes);
        } catch {
          followers?.delete(controller);
        }
      }
    }
    const written = this.written.get(turnId) ?? { count: 0, at: 0 };
    if (buffer.length - written.count >= PERSIST_EVERY || Date.now() - written.at >= PERSIST_EVERY_MS) {
      this.persist(turnId);
    }
  }

  /** A turn's events, parsed: what reached storage, and (in the instance that runs it) the rest. */
  events(turnId: string): RoomEvent[] {
    return this.bufferOf(turnId).map((event) => ({ name: event.name, data: JSON.parse(event.data) }));
  }

  /** All of a running turn's events since it began: in memory, or after an eviction, what was persisted. */
  private bufferOf(turnId: string) {
    let buffer = this.buffers.get(turnId);
    if (!buffer) {
      buffer = this.stored(turnId, 0);
      this.buffers.set(turnId, buffer);
      this.written.set(turnId, { count: buffer.length, at: 0 });
    }
    return buffer;
  }

  private stored(turnId: string, afterSeq: number): LoggedEvent[] {
    return this.sql
      .exec<LoggedEvent>(
        "SELECT seq, name, data FROM events WHERE turn_id = ? AND seq > ? ORDER BY seq",
        turnId,
        afterSeq,
      )
      .toArray();
  }

  /** Writes the buffered events not yet in SQLite. */
  persist(turnId: string) {
    const buffer = this.buffers.get(turnId) ?? [];
    const from = this.written.get(turnId)?.count ?? 0;
    for (const event of buffer.slice(from)) {
      this.sql.exec(
        "INSERT OR IGNORE INTO events (turn_id, seq, name, data) VALUES (?, ?, ?, ?)",
        turnId,
        event.seq,
        event.name,
        event.data,
      );
    }
    this.written.set(turnId, { count: buffer.length, at: Date.now() });
  }

  /** A turn ended: everything is written, and its followers' streams end. */
  close(turnId: string) {
    this.persist(turnId);
    this.buffers.delete(turnId);
    this.written.delete(turnId);
    for (const controller of this.followers.get(turnId) ?? []) {
      try {
        controller.close();
      } catch {
        // already closed by its reader
      }
    }
    this.followers.delete(turnId);
  }

  /**
   * The events after `afterSeq` as server-sent events, then, while the turn runs (`live`), every later one as
   * it comes, each once; the stream ends with the turn.
   */
  follow(turnId: string, afterSeq: number, live: boolean): ReadableStream<Uint8Array> {
    const buffered = this.buffers.get(turnId);
    const replay = buffered ? buffered.filter((event) => event.seq > afterSeq) : this.stored(turnId, afterSeq);
    const followers = this.followers;
    let registered: ReadableStreamDefaultController<Uint8Array> | null = null;
    return new ReadableStream<Uint8Array>({
      start(controller) {
        // Replay and registration happen in one synchronous step, so no event falls between them.
        for (const event of replay) controller.enqueue(sse(turnId, event.seq, event.name, event.data));
        if (!live) {
          controller.close();
          return;
        }
        registered = controller;
        const set = followers.get(turnId) ?? new Set();
        set.add(controller);
        followers.set(turnId, set);
      },
      cancel() {
        if (registered) followers.get(turnId)?.delete(registered);
      },
    });
  }

  /** Drops a turn's events. */
  forget(turnId: string) {
    this.buffers.delete(turnId);
    this.written.delete(turnId);
    this.sql.exec("DELETE FROM events WHERE turn_id = ?", turnId);
  }

  /** The turns that have live followers (or buffered events) in this instance. */
  turns(): string[] {
    return [...new Set([...this.followers.keys(), ...this.buffers.keys()])];
  }

  /** Forgets what is held in memory (the room's storage is being deleted). */
  clear() {
    this.buffers.clear();
    this.written.clear();
  }
}
