import { DurableObject } from "cloudflare:workers";
import type { RawEnv } from "../../env.js";
import { ApiError } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { createLogger } from "../../lib/log.js";
import { withBackgroundContext } from "../background-context.js";
import type { Caller, ServiceContext } from "../context.js";
import { assertFits } from "./context-window.js";
import { requireConversation } from "./conversations.js";
import { loadHistory, storeMessage } from "./history.js";
import { roomEnv } from "./room-settings.js";
import type {
  RoomConversation,
  RoomEvent,
  RoomMessage,
  SendRequest,
  SendResult,
  TurnConversation,
  TurnOutcome,
  TurnProblem,
} from "./room-types.js";
import { problemOf, runTurn } from "./turn.js";
import { TurnLog } from "./turn-log.js";

// While a turn runs the room wakes itself this often: the alarm keeps the object alive, writes what the turn
// streamed so far, and, in an instance that no longer runs the turn (evicted or crashed), fails it.
const HEARTBEAT_MS = 10_000;
// How long a finished turn's events stay for replay (a client that reconnects late still gets the ending).
const REPLAY_MS = 15 * 60_000;
// How long a cancel waits for the turn to store its partial answer, so the next send is accepted at once.
const CANCEL_WAIT_MS = 5_000;
// The longest a service may keep sends out while it changes the messages (holdTurns): a Worker that died
// holding it blocks the conversation no longer than this.
const HOLD_MS = 30_000;

const INTERRUPTED = {
  code: "TURN_INTERRUPTED",
  message: "The answer stopped when the server running it went away; send the message again (retry: true).",
};

type TurnRow = { turn_id: string; status: string; started_at: number };

/** What the alarm needs to fail a turn whose runner is gone: kept in storage when the turn begins. */
type TurnRecord = {
  conversationId: string;
  caller: Caller;
  requestId: string;
  userMessage: RoomMessage;
};

/** The turn this instance runs (gone with the instance, which is how the alarm knows a turn was orphaned). */
type Runner = {
  turnId: string;
  abort: AbortController;
  /** Settles when the turn's lock is released (its answer stored). */
  released: Promise<void>;
  release: () => void;
  /** Settles when the turn and its after-work (usage, title) are done and its context is closed. */
  ended: Promise<void>;
};

const newRunner = (turnId: string): Runner => {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  return { turnId, abort: new AbortController(), released, release, ended: Promise.resolve() };
};

const refused = (problem: TurnProblem): SendResult => ({ ok: false, problem });

/**
 * One per conversation, reached only through room-client.ts. It runs the conversation's turns: it takes the
 * turn lock, stores the user message, calls the model through the LLM layer with a service context of its own
 * (built from its bindings, as queue jobs do), streams the answer to every client that follows, and stores
 * the answer in Postgres when it ends. Its SQLite storage holds a copy of what the next turn needs (owner,
 * model, system prompt, summary, and the history), so a turn reads no database before its first token; the
 * running turn's events, so a client that lost its connection resumes from the last event id it saw; and the
 * newest finished turn, for replay. Postgres stays the record: the copy is taken from it, and dropped
 * (`invalidate`) whenever it may be out of date.
 */
export class ConversationRoom extends DurableObject<RawEnv> {
  private readonly log: TurnLog;
  private runner: Runner | null = null;
  private reaping: Promise<void> | null = null;
  /** A service changing the messages in Postgres (holdTurns); in memory, since it lasts one short request. */
  private hold: { id: string; until: number } | null = null;

  constructor(ctx: DurableObjectState, env: RawEnv) {
    super(ctx, env);
    this.log = new TurnLog(ctx.storage.sql);
    this.createTables();
  }

  private createTables() {
    this.ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS turns (
        turn_id TEXT PRIMARY KEY, status TEXT NOT NULL, started_at INTEGER NOT NULL,
        ended_at INTEGER,
        -- Read by no code since turns run in the room (kept: rooms made before hold tables with them).
        cancel_requested INTEGER NOT NULL DEFAULT 0, active_at INTEGER);
      CREATE TABLE IF NOT EXISTS conversation (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS history (id TEXT PRIMARY KEY, role TEXT NOT NULL, content TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS turn_records (turn_id TEXT PRIMARY KEY, data TEXT NOT NULL);
      -- Written only where ENVIRONMENT=test: the last send's settings, for the alarm (see room-settings.ts).
      CREATE TABLE IF NOT EXISTS settings (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
    `);
  }

  // ---- the copy of the conversation ----

  private conversation(): RoomConversation | null {
    const [row] = this.ctx.storage.sql.exec<{ data: string }>("SELECT data FROM conversation WHERE id = 1").toArray();
    return row ? (JSON.parse(row.data) as RoomConversation) : null;
  }

  private history(): RoomMessage[] {
    return this.ctx.storage.sql
      .exec<RoomMessage>("SELECT id, role, content FROM history ORDER BY id")
      .toArray()
      .map((row) => ({ id: row.id, role: row.role, content: row.content }));
  }

  private addToHistory(message: RoomMessage) {
    this.ctx.storage.sql.exec(
      "INSERT OR IGNORE INTO history (id, role, content) VALUES (?, ?, ?)",
      message.id,
      message.role,
      message.content,
    );
  }

  /** Takes a copy of the conversation and its history from Postgres, after the owner check there (404). */
  private async hydrate(ctx: ServiceContext, conversationId: string): Promise<RoomConversation> {
    const row = await requireConversation({ ctx, id: conversationId });
    const history = await loadHistory(ctx, row.id);
    // Two first sends at once both find no copy; the second must not replace what the first has added since.
    const current = this.conversation();
    if (current) return current;
    const copy: RoomConversation = {
      ownerId: row.userId,
      title: row.title,
      model: row.model,
      systemPrompt: row.systemPrompt,
      summary: row.summary,
      summaryThrough: row.summaryThrough,
      documentIds: row.documentIds,
      allDocuments: row.allDocuments,
    };
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("DELETE FROM history");
      for (const message of history) this.addToHistory(message);
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO conversation (id, data) VALUES (1, ?)", JSON.stringify(copy));
    });
    return copy;
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

  // ---- turns ----

  private running(): TurnRow | null {
    const [row] = this.ctx.storage.sql.exec<TurnRow>("SELECT * FROM turns WHERE status = 'running'").toArray();
    return row ?? null;
  }

  /** A running turn that no runner of this instance works on: its instance was evicted or crashed. */
  private orphan(): TurnRow | null {
    const running = this.running();
    return running && this.runner?.turnId !== running.turn_id ? running : null;
  }

  /**
   * The running turn's id, or null: the cheap check for what must not happen while a turn runs (deleting
   * messages, say). A turn whose runner is gone is failed on the way, so it does not stay running.
   */
  runningTurn(): { turnId: string | null } {
    const running = this.running();
    if (running && this.orphan()) void this.reapOrphan();
    return { turnId: running?.turn_id ?? null };
  }

  /**
   * Keeps sends out while a service changes the conversation's messages in Postgres (deleting from a
   * message): refused while a turn runs or another hold is on, and it lapses by itself after HOLD_MS. Sends
   * meanwhile answer 409 `TURN_IN_PROGRESS`.
   */
  holdTurns(holdId: string): { held: boolean; turnId: string | null } {
    const { turnId } = this.runningTurn();
    if (turnId) return { held: false, turnId };
    if (this.hold && this.hold.id !== holdId && this.hold.until > Date.now()) return { held: false, turnId: null };
    this.hold = { id: holdId, until: Date.now() + HOLD_MS };
    return { held: true, turnId: null };
  }

  releaseTurns(holdId: string) {
    if (this.hold?.id === holdId) this.hold = null;
  }

  private forget(turnId: string) {
    this.log.forget(turnId);
    this.ctx.storage.sql.exec("DELETE FROM turns WHERE turn_id = ?", turnId);
    this.ctx.storage.sql.exec("DELETE FROM turn_records WHERE turn_id = ?", turnId);
  }

  /**
   * Runs a send: the owner check (against the copy, or Postgres when there is none yet), the turn lock, the
   * user message stored in the room before any model is called, then the turn, which goes on in the room
   * whoever listens. Answers at once with the turn's event stream, or, for a JSON caller, when it ends.
   */
  async send(request: SendRequest): Promise<SendResult> {
    const check = roomEnv(this.env, request.settings);
    if (!check.ok) {
      return refused(
        problemOf(new ApiError("CONFIG_INVALID", `Settings missing or invalid: ${check.problems.join("; ")}`)),
      );
    }
    if (request.settings && this.env.ENVIRONMENT === "test") {
      this.ctx.storage.sql.exec(
        "INSERT OR REPLACE INTO settings (id, data) VALUES (1, ?)",
        JSON.stringify(request.settings),
      );
    }
    const log = createLogger({ level: check.env.LOG_LEVEL, fields: { requestId: request.requestId } });
    let begun: (result: SendResult) => void = () => {};
    const answer = new Promise<SendResult>((resolve) => (begun = resolve));
    const runner = newRunner(request.turnId);
    // The turn's service context lives as long as the turn: what it opened is closed after its deferred work.
    runner.ended = withBackgroundContext({ env: check.env, log, requestId: request.requestId }, async (ctx) => {
      ctx.caller = request.caller;
      ctx.genericAudit = false;
      const prepared = await this.prepare(ctx, request, runner).catch((error: unknown) => ({
        problem: problemOf(error),
      }));
      if ("problem" in prepared) {
        begun(refused(prepared.problem));
        return;
      }
      const done = runTurn({
        ctx,
        room: {
          emit: (events) => this.emit(request.turnId, events),
          updateCopy: (changes) => this.updateConversation(changes),
          dropMessage: (id) => this.ctx.storage.sql.exec("DELETE FROM history WHERE id = ?", id),
          invalidate: () => this.invalidate(),
          finish: (status, message) => this.finish(request.turnId, status, message),
          signal: runner.abort.signal,
        },
        ...prepared,
      }).catch((error: unknown): TurnOutcome => {
        log.error("chat turn failed", { error });
        if (this.running()?.turn_id === request.turnId) this.finish(request.turnId, "failed");
        return { ok: false, problem: problemOf(error) };
      });
      begun(
        request.stream
          ? {
              ok: true,
              turnId: request.turnId,
              stream: this.subscribe(request.turnId, 0) as ReadableStream<Uint8Array>,
            }
          : { ok: true, turnId: request.turnId, outcome: await done },
      );
      await done;
    })
      .catch((error) => log.error("chat turn failed", { error }))
      .finally(() => {
        if (this.runner === runner) this.runner = null;
        begun(refused(problemOf(null)));
      });
    return answer;
  }

  /** Everything before the model call; throws what refuses the send. */
  private async prepare(ctx: ServiceContext, request: SendRequest, runner: Runner) {
    const { turnId, conversationId, input } = request;
    let copy = this.conversation() ?? (await this.hydrate(ctx, conversationId));
    if (copy.ownerId !== request.caller.userId) throw new ApiError("NOT_FOUND", `No conversation ${conversationId}.`);
    if (this.orphan()) await this.reapOrphan();
    const running = this.running();
    if (running) {
      throw new ApiError(
        "TURN_IN_PROGRESS",
        "This conversation is still answering a message. Wait for it, follow it at GET …/stream, or cancel it.",
        { extensions: { turn_id: running.turn_id } },
      );
    }
    if (this.hold && this.hold.until > Date.now()) {
      throw new ApiError("TURN_IN_PROGRESS", "This conversation's messages are being changed; send again in a moment.");
    }
    copy = this.conversation() ?? copy;
    const conversation: TurnConversation = { ...copy, id: conversationId };
    const model = input.model ?? conversation.model;
    if (!input.retry) assertFits(ctx, conversation, model, input.content ?? "");
    this.begin(runner);
    try {
      let userMessage: RoomMessage;
      let storingUserMessage: Promise<unknown> = Promise.resolve();
      if (!input.retry) {
        userMessage = { id: newId("msg"), role: "user", content: input.content ?? "" };
        // Stored durably in the room before any model is called; Postgres gets it alongside the model call.
        this.addToHistory(userMessage);
        const stored = userMessage;
        storingUserMessage = storeMessage(ctx, { ...stored, conversationId }).catch((error) => {
          this.ctx.storage.sql.exec("DELETE FROM history WHERE id = ?", stored.id);
          throw error;
        });
        // Awaited where it ends, but never left unhandled meanwhile.
        storingUserMessage.catch(() => undefined);
      } else {
        // Only an unanswered message can be retried: the room's history keeps no failed answers.
        const last = this.history().at(-1);
        if (last?.role !== "user") {
          throw new ApiError("BAD_REQUEST", "There is no unanswered message to retry in this conversation.");
        }
        userMessage = last;
      }
      const history = this.history();
      const record: TurnRecord = { conversationId, caller: request.caller, requestId: request.requestId, userMessage };
      this.ctx.storage.sql.exec(
        "INSERT OR REPLACE INTO turn_records (turn_id, data) VALUES (?, ?)",
        turnId,
        JSON.stringify(record),
      );
      // Not awaited: the write is held to the object's output gate like every other, so the turn need not wait.
      this.ctx.storage
        .setAlarm(Date.now() + HEARTBEAT_MS)
        .catch((error) => ctx.log.error("chat turn heartbeat not set", { error }));
      this.emit(turnId, [
        {
          name: "message",
          data: {
            id: userMessage.id,
            conversation_id: conversationId,
            role: "user",
            content: userMessage.content,
            model_used: null,
            tokens_used: null,
            status: "complete",
            finish_reason: null,
            error: null,
            created_at: new Date().toISOString(),
          },
        },
      ]);
      return { conversation, history, model, userMessage, storingUserMessage };
    } catch (error) {
      this.finish(turnId, "failed");
      throw error;
    }
  }

  /** Takes the turn lock for this instance; only the newest finished turn is kept for replay. */
  private begin(runner: Runner) {
    const { turnId } = runner;
    for (const { turn_id } of this.ctx.storage.sql.exec<{ turn_id: string }>("SELECT turn_id FROM turns").toArray()) {
      this.forget(turn_id);
    }
    this.ctx.storage.sql.exec(
      "INSERT INTO turns (turn_id, status, started_at) VALUES (?, 'running', ?)",
      turnId,
      Date.now(),
    );
    this.runner = runner;
  }

  /** Hands events of the running turn to its followers at once and keeps them for resuming. */
  private emit(turnId: string, events: RoomEvent[]) {
    if (this.running()?.turn_id === turnId) this.log.emit(turnId, events);
  }

  /** Ends a turn: releases the lock, ends live streams, keeps the events for replay a while. */
  private finish(turnId: string, status: "complete" | "cancelled" | "failed", answer?: RoomMessage) {
    if (answer && this.conversation()) this.addToHistory(answer);
    this.ctx.storage.sql.exec(
      "UPDATE turns SET status = ?, ended_at = ? WHERE turn_id = ? AND status = 'running'",
      status,
      Date.now(),
      turnId,
    );
    this.ctx.storage.sql.exec("DELETE FROM turn_records WHERE turn_id = ?", turnId);
    this.log.close(turnId);
    if (this.runner?.turnId === turnId) this.runner.release();
    // Not awaited (finish runs inside synchronous steps); an instance that is going away may refuse it.
    this.ctx.storage.setAlarm(Date.now() + REPLAY_MS).catch(() => undefined);
  }

  /**
   * Fails a running turn whose runner is gone (its instance evicted or crashed): the partial answer that
   * reached storage is kept as failed with the error, the lock is released, followers get a last `error`.
   */
  private reapOrphan(): Promise<void> {
    this.reaping ??= this.failOrphan().finally(() => {
      this.reaping = null;
    });
    return this.reaping;
  }

  private async failOrphan() {
    const turn = this.orphan();
    if (!turn) return;
    const [row] = this.ctx.storage.sql
      .exec<{ data: string }>("SELECT data FROM turn_records WHERE turn_id = ?", turn.turn_id)
      .toArray();
    const record = row ? (JSON.parse(row.data) as TurnRecord) : null;
    const text = this.log
      .events(turn.turn_id)
      .filter((event) => event.name === "delta")
      .map((event) => (event.data as { text: string }).text)
      .join("");
    let messageId: string | null = null;
    if (record) {
      const [saved] = this.ctx.storage.sql.exec<{ data: string }>("SELECT data FROM settings WHERE id = 1").toArray();
      const check = roomEnv(this.env, saved ? (JSON.parse(saved.data) as Record<string, string>) : undefined);
      if (check.ok) {
        const log = createLogger({ level: check.env.LOG_LEVEL, fields: { requestId: record.requestId } });
        try {
          messageId = await withBackgroundContext({ env: check.env, log, requestId: record.requestId }, async (ctx) => {
            const { conversationId, userMessage } = record;
            await storeMessage(ctx, { ...userMessage, conversationId });
            const stored = await storeMessage(ctx, {
              conversationId,
              role: "assistant",
              content: text,
              status: "failed",
              finishReason: "error",
              error: INTERRUPTED,
            });
            return stored?.id ?? null;
          });
        } catch (error) {
          // Postgres is out of reach: the turn still ends (the lock must not stay held); the copy, which may
          // now say more than the record, goes.
          log.error("interrupted chat turn not stored", { error });
          this.invalidate();
        }
      }
    }
    if (this.running()?.turn_id !== turn.turn_id) return;
    this.emit(turn.turn_id, [{ name: "error", data: { ...INTERRUPTED, message_id: messageId } }]);
    this.finish(turn.turn_id, "failed");
  }

  /**
   * Stops the running turn: its provider call is aborted at once (before or after its first token) and the
   * partial answer is stored as cancelled; answers once the turn has ended, so the next send is accepted.
   */
  async cancel(): Promise<{ turnId: string | null }> {
    const running = this.running();
    if (!running) return { turnId: null };
    const runner = this.runner;
    if (runner?.turnId === running.turn_id) {
      runner.abort.abort();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([runner.released, new Promise((resolve) => (timer = setTimeout(resolve, CANCEL_WAIT_MS)))]);
      clearTimeout(timer);
    } else {
      await this.reapOrphan();
    }
    return { turnId: running.turn_id };
  }

  /**
   * A turn's events as server-sent events: those after `afterSeq`, then (while the turn runs) the live rest,
   * each once. Without a turn id, the newest turn. Null when there is no such turn (never run, or its replay
   * expired).
   */
  subscribe(turnId: string | null, afterSeq: number): ReadableStream<Uint8Array> | null {
    const [turn] = turnId
      ? this.ctx.storage.sql.exec<TurnRow>("SELECT * FROM turns WHERE turn_id = ?", turnId).toArray()
      : this.ctx.storage.sql.exec<TurnRow>("SELECT * FROM turns ORDER BY started_at DESC LIMIT 1").toArray();
    if (!turn) return null;
    const stream = this.log.follow(turn.turn_id, afterSeq, turn.status === "running");
    // No follower waits on a stream that nothing feeds: a turn whose runner is gone ends now, with an error.
    if (turn.status === "running" && this.orphan()?.turn_id === turn.turn_id) void this.reapOrphan();
    return stream;
  }

  /** Resolves when the room has no turn running and the last one's after-work (usage, title) is done. */
  async idle(): Promise<void> {
    while (this.runner) await this.runner.ended;
  }

  /** Deletes everything the room holds (the conversation is being deleted); a running turn is stopped. */
  async destroy() {
    const runner = this.runner;
    if (runner) {
      runner.abort.abort();
      await runner.ended;
    }
    for (const turnId of this.log.turns()) this.finish(turnId, "cancelled");
    await this.ctx.storage.deleteAlarm();
    this.log.clear();
    await this.ctx.storage.deleteAll();
    // The object lives on in memory for a while; a later call must find its (empty) tables.
    this.log.createTable();
    this.createTables();
  }

  /** How many turns and events the room holds (for tests and diagnostics). */
  stats(): { turns: number; events: number; messages: number } {
    const count = (table: string) =>
      this.ctx.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).toArray()[0]?.n ?? 0;
    return { turns: count("turns"), events: count("events"), messages: count("history") };
  }

  /**
   * While a turn runs: a heartbeat (the room stays alive, streamed events reach storage) or, in an instance
   * that no longer runs the turn, its end as failed. Otherwise: replay time is over, finished turns go.
   */
  override async alarm() {
    const running = this.running();
    if (running) {
      if (this.runner?.turnId === running.turn_id) {
        this.log.persist(running.turn_id);
        await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
      } else {
        await this.reapOrphan();
      }
      return;
    }
    const cutoff = Date.now() - REPLAY_MS;
    const old = this.ctx.storage.sql
      .exec<{ turn_id: string }>("SELECT turn_id FROM turns WHERE status != 'running' AND ended_at <= ?", cutoff)
      .toArray();
    for (const { turn_id } of old) this.forget(turn_id);
  }
}
