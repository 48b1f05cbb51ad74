import { DurableObject } from "cloudflare:workers";
import type { RawEnv } from "../src/env.js";

/** One event of a turn as clients receive it: `id: {turn}.{seq}`, `event: {name}`, `data: {data}`. */
export type RoomEvent = { name: string; data: unknown };

/** What `begin` answers: the turn is ours, or another one is running. */
export type BeginResult = { ok: true } | { ok: false; runningTurnId: string };

// A running turn older than this is taken to have died with its Worker and no longer holds the lock.
const STALE_TURN_MS = 10 * 60_000;
// How long a finished turn's events stay for replay (a client that reconnects late still gets the ending).
const REPLAY_MS = 15 * 60_000;
// Buffered events are written to SQLite once this many wait (and all of them when the turn ends).
const PERSIST_EVERY = 32;

const encoder = new TextEncoder();
const sse = (turnId: string, seq: number, name: string, data: string) =>
  encoder.encode(`id: ${turnId}.${seq}\nevent: ${name}\ndata: ${data}\n\n`);

type TurnRow = { turn_id: string; status: string; started_at: number; cancel_requested: number };

/**
 * One per conversation, reached only through src/services/chat/room-client.ts after the owner check. It
 * holds the turn lock (one turn at a time), and the running turn's events in its own SQLite storage, so a
 * client that lost its connection can resume from the last event id it saw, and a finished turn can be
 * replayed for a while. The Worker that runs the turn appends events; clients subscribe.
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
        ended_at INTEGER, cancel_requested INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS events (
        turn_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (turn_id, seq));
    `);
  }

  private running(): TurnRow | null {
    const [row] = this.ctx.storage.sql
      .exec<TurnRow>("SELECT turn_id, status, started_at, cancel_requested FROM turns WHERE status = 'running'")
      .toArray();
    return row ?? null;
  }

  private forget(turnId: string) {
    this.buffers.delete(turnId);
    this.written.delete(turnId);
    this.ctx.storage.sql.exec("DELETE FROM events WHERE turn_id = ?", turnId);
    this.ctx.storage.sql.exec("DELETE FROM turns WHERE turn_id = ?", turnId);
  }

  /** Takes the turn lock for `turnId`, unless another turn runs (a stale one is released first). */
  begin(turnId: string): BeginResult {
    const running = this.running();
    if (running && Date.now() - running.started_at < STALE_TURN_MS) {
      return { ok: false, runningTurnId: running.turn_id };
    }
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
    const [turn] = this.ctx.storage.sql
      .exec<TurnRow>("SELECT turn_id, status, started_at, cancel_requested FROM turns WHERE turn_id = ?", turnId)
      .toArray();
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
  async finish(turnId: string, status: "complete" | "cancelled" | "failed") {
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
  stats(): { turns: number; events: number } {
    const [turns] = this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM turns").toArray();
    const [events] = this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").toArray();
    return { turns: turns?.n ?? 0, events: events?.n ?? 0 };
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
