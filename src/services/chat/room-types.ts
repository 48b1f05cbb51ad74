import type { ProblemExtensions } from "../../lib/errors.js";
import type { Caller } from "../context.js";
import type { ContextReport } from "./context-window.js";
import type { publicMessage } from "./conversations.js";

export type { RoomMessage } from "./history.js";

/** One event of a turn as clients receive it: `id: {turn}.{seq}`, `event: {name}`, `data: {data}`. */
export type RoomEvent = { name: string; data: unknown };

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

/** The room's copy of a conversation, with its id. */
export type TurnConversation = RoomConversation & { id: string };

/** An ApiError as it crosses the RPC boundary (a class does not), rebuilt on the Worker's side. */
export type TurnProblem = {
  code: string;
  message: string;
  extensions: ProblemExtensions;
  headers: Record<string, string>;
};

/** What a turn answers when it is awaited (JSON): the assistant message and how its window was spent. */
export type TurnAnswer = ReturnType<typeof publicMessage> & { context: ContextReport };

/** How a turn ended for a caller that waits for it: the answer, or the problem the caller gets. */
export type TurnOutcome = { ok: true; answer: TurnAnswer } | { ok: false; problem: TurnProblem };

/** A send, as the Worker hands it to the room. */
export type SendRequest = {
  turnId: string;
  conversationId: string;
  caller: Caller;
  requestId: string;
  input: { content?: string | undefined; model?: string | undefined; retry?: boolean | undefined };
  /** Answer with the turn's event stream at once (SSE); otherwise wait for the turn's end (JSON). */
  stream: boolean;
  /** Test deployments only: the settings the Worker runs with (see room-settings.ts). */
  settings?: Record<string, string> | undefined;
};

/** What a send answers: refused (the problem), or begun, with its stream or, awaited, its outcome. */
export type SendResult =
  | { ok: false; problem: TurnProblem }
  | { ok: true; turnId: string; stream: ReadableStream<Uint8Array> }
  | { ok: true; turnId: string; outcome: TurnOutcome };
