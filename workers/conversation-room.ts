import { DurableObject } from "cloudflare:workers";
import type { RawEnv } from "../src/env.js";

/** One event of a turn as clients receive it: `id: {turn}.{seq}`, `event: {name}`, `data: {data}`. */
export type RoomEvent = { name: string; data: unknown };

/** What `begin` answers: the turn is ours, or another one is running. */
export type BeginResult = { ok: true } | { ok: false; runningTurnId: string };

/** What a turn needs of its conversation, kept in the room so a turn reads no database before its answer. */
export type RoomConversation = {
  ownerId: string;
  title: string | null;
  model: string;
  systemPrompt: string | null;
  summary: string | null;
  summaryThrough: string | null;
  /** Documents whose passages ground each answer (a copy taken before grounding existed has neither). */
  documentIds?: string[];
  allDocuments?: boolean;
};

/** A message of the room's copy of the history (user messages and answers that were not failures). */
export type RoomMessage = { id: string; role: "user" | "assistant"; content: string };

/** What `open` answers. */
export type OpenResult =
  | { status: "unknown" }
  | { status: "not_found" }
  | { status: "busy"; runningTurnId: string }
  | { status: "ok"; conversation: RoomConversation; history: RoomMessage[] };

// A running turn that has appended nothing for this long is taken to have died with its Worker (cut off,
// or crashed before it could finish) and no longer holds the lock. Longer than any wait for a next token.
const SILENT_TURN_MS = 2 * 60_000;
// How long a finished turn's events stay for replay (a client that reconnects late still gets the ending).
const REPLAY_MS = 15 * 60_000;
const HEARTBEAT_EVERY_MS = 5_000;
// Buffered events are written to SQLite once this many wait (and all of them when the turn ends).
const PERSIST_EVERY = 32;

const encoder = new TextEncoder();
const sse = (turnId: string, seq: number, name: string, data: string) =>
  encoder.encode(`id: ${turnId}.${seq}\nevent: ${name}\ndata: ${data}\n\n`);

type TurnRow = {
  turn_id: string;
  status: string;
  started_at: number;
  active_at: number | null;
  cancel_requested: number;
};

/**
 * One per conversation, reached only through src/services/chat/room-client.ts. It holds, in its own SQLite
 * storage: a copy of what the next turn needs (owner, model, system prompt, summary, and the history), so a
 * turn reads no database before its first token; the turn lock (one turn at a time); and the running turn's
 * events, so a client that lost its connection can resume from the last event id it saw, and a finished turn
 * can be replayed for a while. The Worker that runs the turn appends events; clients subscribe. Postgres stays
 * the record: the copy is taken from it, and dropped (`invalidate`) whenever it may be out of date.
 */
export class ConversationRoom extends DurableObject<RawEnv> {
  private readonly live = new Map<string, Set<ReadableStreamDefaultController<Uint8Array>>>();
  /** The running turn's events, in order, and how many of them are already in SQLite. */
  private readonly buffers = new Map<string, { seq: number; name: string; data: string }[]>();
  private readonly written = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: RawEnv) {
    super(ctx, env);
    this.createTables();
  }

  private createTables() {
    this.ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS turns (
        turn_id TEXT PRIMARY KEY, status TEXT NOT NULL, started_at INTEGER NOT NULL,
        ended_at INTEGER, cancel_requested INTEGER NOT NULL DEFAULT 0, active_at INTEGER);
      CREATE TABLE IF NOT EXISTS events (
        turn_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (turn_id, seq));
      CREATE TABLE IF NOT EXISTS conversation (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS history (id TEXT PRIMARY KEY, role TEXT NOT NULL, content TEXT NOT NULL);
    `);
  }

  private running(): TurnRow | null {
    const [row] = this.ctx.storage.sql.exec<TurnRow>("SELECT * FROM turns WHERE status = 'running'").toArray();
    return row ?? null;
  }

  private forget(turnId: string) {
    this.buffers.delete(turnId);
    this.written.delete(turnId);
    this.ctx.storage.sql.exec("DELETE FROM events WHERE turn_id = ?", turnId);
    this.ctx.storage.sql.exec("DELETE FROM turns WHERE turn_id = ?", turnId);
  }

  private conversation(): RoomConversation | null {
    const [row] = this.ctx.storage.sql.exec<{ data: string }>("SELECT data FROM conversation WHERE id = 1").toArray();
    return row ? (JSON.parse(row.data) as RoomConversation) : null;
  }

  /** Takes a copy of the conversation and its history from Postgres (the Worker checked the owner there). */
  hydrate(conversation: RoomConversation, history: RoomMessage[]) {
    // Two first sends at once both find no copy; the second must not replace what the first has added since.
    if (this.conversation()) return;
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("DELETE FROM history");
      for (const message of history) {
        this.ctx.storage.sql.exec(
          "INSERT INTO history (id, role, content) VALUES (?, ?, ?)",
          message.id,
          message.role,
          message.content,
        );
      }
      this.ctx.storage.sql.exec(
        "INSERT OR REPLACE INTO conversation (id, data) VALUES (1, ?)",
        JSON.stringify(conversation),
      );
    });
  }

  /** Changes the copy (a new summary, title, model or prompt); a room without a copy ignores it. */
  updateConversation(changes: Partial<Omit<RoomConversation, "ownerId">>) {
    const current = this.conversation();
    if (!current) return;
    this.ctx.storage.sql.exec(
      "UPDATE conversation SET data = ? WHERE id = 1",
      JSON.stringify({ ...current, ...changes }),
    );
  }

  /** Drops the copy, so the next turn takes a fresh one from Postgres. */
  invalidate() {
    this.ctx.storage.sql.exec("DELETE FROM conversation");
    this.ctx.storage.sql.exec("DELETE FROM history");
  }

  /**
   * Opens a turn for `userId`: the owner check against the copy (`unknown` when there is none yet: the Worker
   * then hydrates from Postgres and asks again) and the turn lock. Answers the conversation and history.
   */
  open(turnId: string, userId: string): OpenResult {
    const conversation = this.conversation();
    if (!conversation) return { status: "unknown" };
    if (conversation.ownerId !== userId) return { status: "not_found" };
    const begun = this.begin(turnId);
    if (!begun.ok) return { status: "busy", runningTurnId: begun.runningTurnId };
    return { status: "ok", conversation, history: this.history() };
  }

  private history(): RoomMessage[] {
    return this.ctx.storage.sql
      .exec<RoomMessage>("SELECT id, role, content FROM history ORDER BY id")
      .toArray()
      .map((row) => ({ id: row.id, role: row.role, content: row.content }));
  }

  /** Stores the running turn's user message durably, before any model is called; answers the history. */
  addMessage(turnId: string, message: RoomMessage): RoomMessage[] {
    const running = this.running();
    if (running?.turn_id !== turnId) throw new Error(`turn ${turnId} is not running`);
    this.ctx.storage.sql.exec(
      "INSERT OR IGNORE INTO history (id, role, content) VALUES (?, ?, ?)",
      message.id,
      message.role,
      message.content,
    );
    return this.history();
  }

  /** Takes back a user message whose turn never got going (it could not be stored in Postgres). */
  dropMessage(id: string) {
    this.ctx.storage.sql.exec("DELETE FROM history WHERE id = ?", id);
  }

  private silent(turn: TurnRow) {
    return Date.now() - (turn.active_at ?? turn.started_at) > SILENT_TURN_MS;
  }

  /** Takes the turn lock for `turnId`, unless another turn runs (a silent one is released first). */
  begin(turnId: string): BeginResult {
    const running = this.running();
    if (running && !this.silent(running)) return { ok: false, runningTurnId: running.turn_id };
    if (running) this.finish(running.turn_id, "failed");
    // Only the newest finished turn is kept for replay; older ones go now.
    for (const { turn_id } of this.ctx.storage.sql.exec<{ turn_id: string }>("SELECT turn_id FROM turns").toArray()) {
      this.forget(turn_id);
    }
    this.ctx.storage.sql.exec(
      "INSERT INTO turns (turn_id, status, started_at) VALUES (?, 'running', ?)",
      turnId,
      Date.now(),
    );
    return { ok: true };
  }

  /**
   * Hands events of the running turn to live subscribers at once and keeps them for resuming; says whether
   * cancel was asked. Events reach SQLite in batches (and all of them when the turn ends): every storage write
   * holds the object's outgoing messages until it is durable, which per token would delay every delta.
   */
  append(turnId: string, events: RoomEvent[]): { cancelled: boolean } {
    const [turn] = this.ctx.storage.sql.exec<TurnRow>("SELECT * FROM turns WHERE turn_id = ?", turnId).toArray();
    if (turn?.status !== "running") return { cancelled: true };
    const buffer = this.bufferOf(turnId);
    const subscribers = this.live.get(turnId);
    for (const event of events) {
      const stored = {
        seq: (buffer.at(-1)?.seq ?? this.persistedSeq(turnId)) + 1,
        name: event.name,
        data: JSON.stringify(event.data),
      };
      buffer.push(stored);
      const bytes = sse(turnId, stored.seq, stored.name, stored.data);
      for (const controller of subscribers ?? []) {
        try {
          controller.enqueue(bytes);
        } catch {
          subscribers?.delete(controller);
        }
      }
    }
    if (buffer.length - (this.written.get(turnId) ?? 0) >= PERSIST_EVERY) this.persist(turnId);
    // A heartbeat, kept in memory and written at most every few seconds: the turn is alive.
    const now = Date.now();
    if (now - (turn.active_at ?? turn.started_at) > HEARTBEAT_EVERY_MS) {
      this.ctx.storage.sql.exec("UPDATE turns SET active_at = ? WHERE turn_id = ?", now, turnId);
    }
    return { cancelled: turn.cancel_requested === 1 };
  }

  /** The running turn's events in memory (all of them since `begin`, persisted or not). */
  private bufferOf(turnId: string) {
    let buffer = this.buffers.get(turnId);
    if (!buffer) {
      // After an eviction mid-turn, what was persisted is the start of the buffer.
      buffer = this.storedEvents(turnId, 0);
      this.buffers.set(turnId, buffer);
      this.written.set(turnId, buffer.length);
    }
    return buffer;
  }

  private persistedSeq(turnId: string) {
    const [last] = this.ctx.storage.sql
      .exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM events WHERE turn_id = ?", turnId)
      .toArray();
    return last?.seq ?? 0;
  }

  private storedEvents(turnId: string, afterSeq: number) {
    return this.ctx.storage.sql
      .exec<{ seq: number; name: string; data: string }>(
        "SELECT seq, name, data FROM events WHERE turn_id = ? AND seq > ? ORDER BY seq",
        turnId,
        afterSeq,
      )
      .toArray();
  }

  /** Writes the buffered events not yet in SQLite. */
  private persist(turnId: string) {
    const buffer = this.buffers.get(turnId) ?? [];
    const from = this.written.get(turnId) ?? 0;
    for (const event of buffer.slice(from)) {
      this.ctx.storage.sql.exec(
        "INSERT OR IGNORE INTO events (turn_id, seq, name, data) VALUES (?, ?, ?, ?)",
        turnId,
        event.seq,
        event.name,
        event.data,
      );
    }
    this.written.set(turnId, buffer.length);
  }

  /** Ends a turn: releases the lock, ends live streams, keeps the events for replay a while. */
  async finish(turnId: string, status: "complete" | "cancelled" | "failed", answer?: RoomMessage) {
    if (answer && this.conversation()) {
      this.ctx.storage.sql.exec(
        "INSERT OR IGNORE INTO history (id, role, content) VALUES (?, ?, ?)",
        answer.id,
        answer.role,
        answer.content,
      );
    }
    this.persist(turnId);
    this.buffers.delete(turnId);
    this.written.delete(turnId);
    this.ctx.storage.sql.exec(
      "UPDATE turns SET status = ?, ended_at = ? WHERE turn_id = ?",
      status,
      Date.now(),
      turnId,
    );
    for (const controller of this.live.get(turnId) ?? []) {
      try {
        controller.close();
      } catch {
        // already closed by its reader
      }
    }
    this.live.delete(turnId);
    await this.ctx.storage.setAlarm(Date.now() + REPLAY_MS);
  }

  /** Asks the running turn to stop; the Worker running it learns so at its next append. */
  cancel(): { turnId: string | null } {
    const running = this.running();
    if (!running) return { turnId: null };
    this.ctx.storage.sql.exec("UPDATE turns SET cancel_requested = 1 WHERE turn_id = ?", running.turn_id);
    // No Worker is running a silent turn any more: nobody would read the flag, so it ends here.
    if (this.silent(running)) void this.finish(running.turn_id, "cancelled");
    return { turnId: running.turn_id };
  }

  /**
   * A turn's events as server-sent events: those after `afterSeq`, then (while the turn runs) the live rest.
   * Without a turn id, the newest turn. Null when there is no such turn (never run, or its replay expired).
   */
  subscribe(turnId: string | null, afterSeq: number): ReadableStream<Uint8Array> | null {
    const [turn] = turnId
      ? this.ctx.storage.sql.exec<TurnRow>("SELECT * FROM turns WHERE turn_id = ?", turnId).toArray()
      : this.ctx.storage.sql.exec<TurnRow>("SELECT * FROM turns ORDER BY started_at DESC LIMIT 1").toArray();
    if (!turn) return null;
    const buffered = this.buffers.get(turn.turn_id);
    const stored = buffered
      ? buffered.filter((event) => event.seq > afterSeq)
      : this.storedEvents(turn.turn_id, afterSeq);
    const live = this.live;
    let registered: ReadableStreamDefaultController<Uint8Array> | null = null;
    return new ReadableStream<Uint8Array>({
      start(controller) {
        // Replay and registration happen in one synchronous step, so no event falls between them.
        for (const event of stored) controller.enqueue(sse(turn.turn_id, event.seq, event.name, event.data));
        if (turn.status !== "running") {
          controller.close();
          return;
        }
        registered = controller;
        const set = live.get(turn.turn_id) ?? new Set();
        set.add(controller);
        live.set(turn.turn_id, set);
      },
      cancel() {
        if (registered) live.get(turn.turn_id)?.delete(registered);
      },
    });
  }

  /** Deletes everything the room holds (the conversation is being deleted). */
  async destroy() {
    for (const [turnId] of this.live) await this.finish(turnId, "cancelled");
    await this.ctx.storage.deleteAlarm();
    this.buffers.clear();
    this.written.clear();
    await this.ctx.storage.deleteAll();
    // The object lives on in memory for a while; a later call must find its (empty) tables.
    this.createTables();
  }

  /** How many turns and events the room holds (for tests and diagnostics). */
  stats(): { turns: number; events: number; messages: number } {
    const count = (table: string) =>
      this.ctx.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).toArray()[0]?.n ?? 0;
    return { turns: count("turns"), events: count("events"), messages: count("history") };
  }

  /** Replay time is over: finished turns and their events go. */
  override async alarm() {
    const cutoff = Date.now() - REPLAY_MS;
    const old = this.ctx.storage.sql
      .exec<{ turn_id: string }>("SELECT turn_id FROM turns WHERE status != 'running' AND ended_at <= ?", cutoff)
      .toArray();
    for (const { turn_id } of old) this.forget(turn_id);
  }
}
