import { sql } from "drizzle-orm";
import { customType, index, integer, jsonb, pgTable, primaryKey, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, leaseColumns, oneOf, timestamptz, updatedAt } from "./columns.js";
import { users } from "./users.js";

/** Postgres's full-text vector; written by Postgres itself (a generated column), never by code. */
const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

/** Where a research session is: queued, being worked on, done with a report, given up, or stopped by its user. */
export const researchStatuses = ["pending", "running", "completed", "failed", "cancelled"] as const;

/** One of `researchStatuses`. */
export type ResearchStatus = (typeof researchStatuses)[number];

/** How thorough a session is: how many sub-questions, and how large its budget. */
export const researchDepths = ["quick", "standard", "deep"] as const;

/** One of `researchDepths`. */
export type ResearchDepth = (typeof researchDepths)[number];

/** Where a session looks: the web, the owner's documents, or both. */
export const researchSourceKinds = ["web", "documents", "both"] as const;

/** One of `researchSourceKinds`. */
export type ResearchSourceKind = (typeof researchSourceKinds)[number];

/**
 * A source a research summary cites: `n` is its citation number in the summary, `accessed_at` an ISO time.
 * A `document` source is one page of one of the owner's documents: its `url` is `document:{id}#page={n}`.
 */
export type ResearchSource = {
  n: number;
  kind: "web" | "document";
  url: string;
  title: string;
  quote: string;
  accessed_at: string;
  document_id?: string;
  filename?: string;
  page?: number;
};

/** A source found but not read, and why. */
export type SkippedSource = { url: string; reason: string };

/** The caps a session runs under; reaching one stops it early with what it has. */
export type ResearchBudget = { max_tokens: number; max_cost_usd: number; max_seconds: number };

/** What a session spent. */
export type ResearchUsage = {
  model_calls: number;
  tokens_input: number;
  tokens_output: number;
  cost_usd: number;
  searches: number;
  scrapes: number;
};

/** Where a session is, for `GET /sessions/{id}` and the progress events. */
export type ResearchProgress = {
  stage: "queued" | "planning" | "searching" | "reading" | "ranking" | "writing" | "done";
  sub_questions: number;
  sources_found: number;
  sources_read: number;
  sources_skipped: number;
  sections_written: number;
  percent: number;
};

/** Why a session failed, kept so the owner can read it and retry. */
export type ResearchFailure = { code: string; message: string; retryable: boolean };

/** A search hit kept for reading: its canonical URL and the sub-questions (by index) that found it. */
export type ResearchCandidate = { url: string; title: string; description: string; questions: number[] };

/** What reading one source came to. */
export type SourceRead =
  | { status: "read"; title: string; accessed_at: string; object_key: string; chars: number; chunks: number }
  | { status: "skipped"; reason: string };

/** A passage handed to the writer: a chunk of a read source. */
export type RankedPassage = { chunk_id: string; url: string; text: string };

/** One written section, its citations already checked: `[n]` in `text` points at `cited[n - 1]` (a URL). */
export type WrittenSection = {
  question: string;
  text: string;
  cited: Array<{ url: string; quote: string }>;
  flagged: Array<{ claim: string; reason: string }>;
};

/**
 * The pipeline's checkpoints: each step's output, written before the next step starts, so a run that is
 * redelivered or retried picks up after the last finished step instead of starting over.
 */
export type ResearchState = {
  plan?: { sub_questions: string[] };
  search?: { results: ResearchCandidate[] };
  /** Per candidate URL, once it has been read or skipped. */
  reads?: Record<string, SourceRead>;
  ranked?: Array<{ question: string; passages: RankedPassage[] }>;
  /** Per sub-question, in order, as each is written. */
  sections?: WrittenSection[];
  /** Why the run stopped before it had done everything, when a budget ran out. */
  stopped_early?: string;
};

/** How the report's citations fared in the check: how many were kept, and the claims flagged or dropped. */
export type CitationCheck = {
  citations_kept: number;
  citations_removed: number;
  flagged: Array<{ claim: string; reason: string }>;
};

/**
 * Research runs: a user's question, its progress, and once completed the written `summary` and `report` with
 * the `sources` it cites. `state` holds the pipeline's checkpoints; source texts live in R2.
 */
export const researchSessions = pgTable(
  "research_sessions",
  {
    id: idColumn("res"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    query: text("query").notNull(),
    status: varchar("status", { length: 20, enum: researchStatuses }).notNull().default("pending"),
    summary: text("summary"),
    sources: jsonb("sources").$type<ResearchSource[]>(),
    depth: varchar("depth", { length: 10, enum: researchDepths }).notNull().default("standard"),
    maxSources: integer("max_sources").notNull().default(10),
    includeDomains: jsonb("include_domains").$type<string[]>().notNull().default([]),
    excludeDomains: jsonb("exclude_domains").$type<string[]>().notNull().default([]),
    /** Where the session looks: `web`, `documents` or `both`. */
    sourceKind: varchar("source_kind", { length: 10, enum: researchSourceKinds }).notNull().default("web"),
    /** The documents it may read (`documents`/`both`); null: all the owner's ready documents. */
    documentIds: jsonb("document_ids").$type<string[]>(),
    webhookUrl: text("webhook_url"),
    /** sha-256 of the owner, the normalised query and its options: the `cache:research:{hash}` key. */
    queryHash: varchar("query_hash", { length: 64 }),
    report: text("report"),
    progress: jsonb("progress").$type<ResearchProgress>(),
    state: jsonb("state").$type<ResearchState>().notNull().default({}),
    skippedSources: jsonb("skipped_sources").$type<SkippedSource[]>().notNull().default([]),
    citationCheck: jsonb("citation_check").$type<CitationCheck>(),
    budget: jsonb("budget").$type<ResearchBudget>(),
    usage: jsonb("usage").$type<ResearchUsage>(),
    stoppedEarly: text("stopped_early"),
    error: jsonb("error").$type<ResearchFailure>(),
    ...leaseColumns(),
    /** The session whose report a cached answer copied. */
    cachedFrom: text("cached_from"),
    /** The document the report was stored as, once attached (`POST /sessions/{id}/document`). */
    documentId: text("document_id"),
    startedAt: timestamptz("started_at"),
    updatedAt: updatedAt(),
    createdAt: createdAt(),
    completedAt: timestamptz("completed_at"),
  },
  (t) => [
    index("idx_research_sessions_user").on(t.userId, t.createdAt),
    index("idx_research_sessions_hash").on(t.userId, t.queryHash),
    oneOf("research_sessions_status_check", t.status, researchStatuses),
    oneOf("research_sessions_depth_check", t.depth, researchDepths),
    oneOf("research_sessions_source_kind_check", t.sourceKind, researchSourceKinds),
  ],
);

/** A row of `research_sessions` as read. */
export type ResearchSession = typeof researchSessions.$inferSelect;

/** A row of `research_sessions` as inserted. */
export type NewResearchSession = typeof researchSessions.$inferInsert;

/** Progress events of a session, numbered from 1 in order, for `GET /sessions/{id}/events` (SSE). */
export const researchEvents = pgTable(
  "research_events",
  {
    sessionId: text("session_id")
      .notNull()
      .references(() => researchSessions.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    type: varchar("type", { length: 40 }).notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.seq] })],
);

/** A row of `research_events` as read. */
export type ResearchEvent = typeof researchEvents.$inferSelect;

/**
 * The per-session index of read sources: each source's text in chunks, searched by Postgres full text (and by
 * vector in the `research_{id}` namespace when embeddings are configured) to rank passages per sub-question.
 */
export const researchChunks = pgTable(
  "research_chunks",
  {
    /** `{sessionId}#{ordinal}`, the same id as the chunk's vector. */
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => researchSessions.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    ordinal: integer("ordinal").notNull(),
    content: text("content").notNull(),
    search: tsvector("search").notNull().generatedAlwaysAs(sql`to_tsvector('english', content)`),
  },
  (t) => [
    index("idx_research_chunks_session").on(t.sessionId),
    index("idx_research_chunks_search").using("gin", t.search),
  ],
);
