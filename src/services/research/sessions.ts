import { and, desc, eq, inArray, lt } from "drizzle-orm";
import {
  type ResearchBudget,
  type ResearchDepth,
  type ResearchSession,
  type ResearchSourceKind,
  type ResearchStatus,
  researchSessions,
} from "../../db/schema/index.js";
import { createVectorStore } from "../../integrations/vector-store.js";
import { ApiError } from "../../lib/errors.js";
import { isId } from "../../lib/ids.js";
import { costOf } from "../../llm/models.js";
import { configuredProviders } from "../../llm/providers/index.js";
import { resolveCandidates } from "../../llm/router.js";
import { requireUser, type ServiceContext } from "../context.js";
import { cursorPage } from "../cursor-page.js";
import { requireDocumentIds } from "../documents/documents.js";
import { ensureJobEndpoint } from "../webhooks/endpoints.js";
import { recordEvent, sendFirstAttempts } from "../webhooks/events.js";
import { researchEventData } from "../webhooks/payloads.js";
import { cachedSessionId, queryHash } from "./cache.js";
import { budgetFor, DEPTHS } from "./depth.js";
import { appendEvent } from "./events.js";
import { sessionPrefix } from "./run-session.js";
import { researchNamespace } from "./source-index.js";
import { requireWebSearch, webSearchFromEnv } from "./web-search.js";

// The same answer for an id that is malformed, unknown or someone else's, so ids reveal nothing.
const notFound = (id: string) => new ApiError("NOT_FOUND", `No research session ${id}.`);

/** A session as the API shows it. */
export const publicSession = (session: ResearchSession) => ({
  id: session.id,
  query: session.query,
  status: session.status,
  depth: session.depth,
  max_sources: session.maxSources,
  include_domains: session.includeDomains,
  exclude_domains: session.excludeDomains,
  source_kind: session.sourceKind,
  document_ids: session.documentIds,
  webhook_url: session.webhookUrl,
  progress: {
    ...(session.progress ?? {
      stage: "queued" as const,
      sub_questions: 0,
      sources_found: 0,
      sources_read: 0,
      sources_skipped: 0,
      sections_written: 0,
      percent: 0,
    }),
    slices: session.slices,
  },
  sub_questions: session.state?.plan?.sub_questions ?? [],
  summary: session.summary,
  report: session.report,
  // Sources listed before document research existed are all web pages.
  sources: (session.sources ?? []).map((source) => ({ ...source, kind: source.kind ?? "web" })),
  skipped_sources: session.skippedSources,
  citation_check: session.citationCheck ?? null,
  budget: session.budget ?? DEPTHS[session.depth].budget,
  usage: session.usage ?? null,
  stopped_early: session.stoppedEarly,
  cached_from: session.cachedFrom,
  document_id: session.documentId,
  attempts: session.attempt,
  error: session.error ?? null,
  created_at: session.createdAt.toISOString(),
  started_at: session.startedAt?.toISOString() ?? null,
  completed_at: session.completedAt?.toISOString() ?? null,
});

/** A session as `GET /sessions/{id}` shows it. */
export type PublicSession = ReturnType<typeof publicSession>;

/** What `POST /sessions` takes (validated at the edge). */
export type CreateSessionInput = {
  query: string;
  depth: ResearchDepth;
  max_sources?: number | undefined;
  include_domains: string[];
  exclude_domains: string[];
  webhook_url?: string | undefined;
  budget?: Partial<ResearchBudget> | undefined;
  fresh: boolean;
  sources?: ResearchSourceKind | undefined;
  document_ids?: string[] | undefined;
};

/** Where a session looks when it does not say: the web when a search provider is configured, else the documents. */
export const defaultSourceKind = (ctx: ServiceContext): ResearchSourceKind =>
  webSearchFromEnv(ctx.env) ? "web" : "documents";

/**
 * Research needs a model, and web research a search provider; without either it is a 503 naming what to set,
 * before anything is stored. Research over documents needs no search provider.
 */
const assertConfigured = (ctx: ServiceContext, kind: ResearchSourceKind) => {
  resolveCandidates(configuredProviders(ctx.env), "auto");
  if (kind !== "documents") requireWebSearch(ctx.env);
};

/**
 * The documents a session may read: `document_ids` when given (each must be the caller's, else 404 as any id
 * of another user's is), or null for all the caller's ready documents. Ids with `sources: "web"` are a 400.
 */
const sessionDocumentIds = async (ctx: ServiceContext, kind: ResearchSourceKind, ids: string[] | undefined) => {
  if (!ids) return null;
  if (kind === "web") {
    const message = 'only with sources "documents" or "both"; web research reads no documents';
    throw new ApiError("VALIDATION_FAILED", `body.document_ids: ${message}.`, {
      extensions: { errors: [{ path: "body.document_ids", message }] },
    });
  }
  return [...(await requireDocumentIds({ ctx, ids }))].sort();
};

/** Puts a session's run on the `research` queue; if the queue refuses, the session fails (retryable) and says why. */
const enqueue = async (ctx: ServiceContext, sessionId: string) => {
  try {
    await ctx.env.RESEARCH_QUEUE.send({ v: 1, kind: "research.run", sessionId });
  } catch (error) {
    ctx.log.error("research queue refused a message", { researchId: sessionId, error });
    await ctx.db
      .update(researchSessions)
      .set({
        status: "failed",
        error: { code: "QUEUE_UNAVAILABLE", message: "The research queue was unavailable; retry.", retryable: true },
      })
      .where(eq(researchSessions.id, sessionId));
    throw new ApiError("NOT_READY", "The research queue is unavailable; the session is kept, retry it later.", {
      cause: error,
    });
  }
};

/**
 * Starts a session: queued on `research`, answered at once (`repeated: false`). The same normalised question
 * with the same options, asked by the same user within 24 h, is answered from the earlier report instead
 * (a new session, `completed`, with `cached_from`), unless `fresh`. A webhook URL becomes (or is) one of the
 * account's endpoints, checked as every endpoint is.
 * @example
 * const { session, cached } = await createSession({ ctx, input: { query, depth: "standard", include_domains: [], exclude_domains: [], fresh: false } });
 */
export const createSession = async ({ ctx, input }: { ctx: ServiceContext; input: CreateSessionInput }) => {
  const userId = requireUser(ctx);
  const sourceKind = input.sources ?? defaultSourceKind(ctx);
  assertConfigured(ctx, sourceKind);
  const documentIds = await sessionDocumentIds(ctx, sourceKind, input.document_ids);
  // The session's own webhook URL is an endpoint of the account (checked as every endpoint is), made if new.
  const hook = input.webhook_url
    ? await ensureJobEndpoint(ctx, { url: input.webhook_url, field: "body.webhook_url" })
    : null;
  const webhook = hook ? { endpoint_id: hook.endpoint.id, secret: hook.secret } : null;
  const maxSources = input.max_sources ?? DEPTHS[input.depth].defaultSources;
  const hash = await queryHash({
    userId,
    query: input.query,
    depth: input.depth,
    maxSources,
    includeDomains: input.include_domains,
    excludeDomains: input.exclude_domains,
    sourceKind,
    documentIds,
  });
  const base = {
    sourceKind,
    documentIds,
    userId,
    query: input.query,
    depth: input.depth,
    maxSources,
    includeDomains: input.include_domains,
    excludeDomains: input.exclude_domains,
    webhookUrl: hook?.url ?? null,
    queryHash: hash,
    budget: budgetFor(input.depth, input.budget),
  };
  if (!input.fresh) {
    const earlierId = await cachedSessionId(ctx, hash);
    const [earlier] = earlierId
      ? await ctx.db
          .select()
          .from(researchSessions)
          .where(
            and(
              eq(researchSessions.id, earlierId),
              eq(researchSessions.userId, userId),
              eq(researchSessions.status, "completed"),
            ),
          )
      : [];
    if (earlier) {
      const cachedCopy = await ctx.db.transaction(async (tx) => {
        const [made] = await tx
          .insert(researchSessions)
          .values({
            ...base,
            status: "completed",
            summary: earlier.summary,
            sources: earlier.sources,
            report: earlier.report,
            skippedSources: earlier.skippedSources,
            citationCheck: earlier.citationCheck,
            stoppedEarly: earlier.stoppedEarly,
            progress: earlier.progress,
            state: { plan: earlier.state.plan },
            usage: { model_calls: 0, tokens_input: 0, tokens_output: 0, cost_usd: 0, searches: 0, scrapes: 0 },
            cachedFrom: earlier.cachedFrom ?? earlier.id,
            completedAt: new Date(),
          })
          .returning();
        if (!made) return null;
        const deliveries = await recordEvent(tx, {
          userId,
          type: "research.completed",
          webhookUrl: made.webhookUrl,
          data: researchEventData({ ...made, status: "completed" }),
        });
        return { made, deliveries };
      });
      const copy = cachedCopy?.made;
      if (!copy) throw new Error("insert returned no session");
      await sendFirstAttempts(ctx, cachedCopy?.deliveries ?? []);
      await appendEvent(ctx, copy.id, "completed", {
        sources: copy.sources?.length ?? 0,
        cached_from: copy.cachedFrom,
        progress: copy.progress,
      });
      ctx.audit({ action: "research.create", resourceType: "research_session", resourceId: copy.id });
      return { session: publicSession(copy), cached: true, webhook };
    }
  }
  const [session] = await ctx.db.insert(researchSessions).values(base).returning();
  if (!session) throw new Error("insert returned no session");
  await appendEvent(ctx, session.id, "queued", { query: session.query, depth: session.depth });
  await enqueue(ctx, session.id);
  ctx.audit({ action: "research.create", resourceType: "research_session", resourceId: session.id });
  return { session: publicSession(session), cached: false, webhook };
};

/** The owner check every session route starts with (404 for malformed, unknown and someone else's ids alike). */
export const requireSession = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const userId = requireUser(ctx);
  if (!isId("res", id)) throw notFound(id);
  const [session] = await ctx.db
    .select()
    .from(researchSessions)
    .where(and(eq(researchSessions.id, id), eq(researchSessions.userId, userId)));
  if (!session) throw notFound(id);
  return session;
};

/** One of the caller's sessions, with its progress and, once completed, its report. */
export const getSession = async ({ ctx, id }: { ctx: ServiceContext; id: string }) =>
  publicSession(await requireSession({ ctx, id }));

/** The caller's sessions, newest first, cursor-paginated, optionally of one status. */
export const listSessions = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { limit: number; cursor?: string | undefined; status?: ResearchStatus | undefined };
}) => {
  const userId = requireUser(ctx);
  const rows = await ctx.db
    .select()
    .from(researchSessions)
    .where(
      and(
        eq(researchSessions.userId, userId),
        input.cursor ? lt(researchSessions.id, input.cursor) : undefined,
        input.status ? eq(researchSessions.status, input.status) : undefined,
      ),
    )
    .orderBy(desc(researchSessions.id))
    .limit(input.limit + 1);
  return cursorPage(rows, input.limit, publicSession);
};

/** Stops a pending or running session: the run sees it at its next checkpoint and writes nothing more. */
export const cancelSession = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const session = await requireSession({ ctx, id });
  const [cancelled] = await ctx.db
    .update(researchSessions)
    .set({ status: "cancelled", leaseUntil: null, completedAt: new Date() })
    .where(and(eq(researchSessions.id, session.id), inArray(researchSessions.status, ["pending", "running"])))
    .returning();
  if (!cancelled) {
    throw new ApiError(
      "CONFLICT",
      `Session ${id} is ${session.status}; only a pending or running session can be cancelled.`,
    );
  }
  await appendEvent(ctx, id, "cancelled", { progress: cancelled.progress });
  ctx.audit({ action: "research.cancel", resourceType: "research_session", resourceId: id });
  return publicSession(cancelled);
};

/**
 * Runs a failed or cancelled session again. Its checkpoints are kept, so the new run goes on after the last
 * step that finished (a plan, searches and sources already read are not repeated); the budget's clock restarts.
 */
export const retrySession = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const session = await requireSession({ ctx, id });
  const [queued] = await ctx.db
    .update(researchSessions)
    .set({ status: "pending", leaseUntil: null, completedAt: null, startedAt: null, slices: 0 })
    .where(and(eq(researchSessions.id, session.id), inArray(researchSessions.status, ["failed", "cancelled"])))
    .returning();
  if (!queued) {
    throw new ApiError(
      "CONFLICT",
      `Session ${id} is ${session.status}; only a failed or cancelled session can be retried.`,
    );
  }
  await appendEvent(ctx, id, "queued", { retry: true });
  await enqueue(ctx, id);
  ctx.audit({ action: "research.retry", resourceType: "research_session", resourceId: id });
  return publicSession(queued);
};

/**
 * Deletes a session that is not running (cancel it first): its row with its events and chunk index, its source
 * texts in R2 and its vector namespace.
 */
export const deleteSession = async ({ ctx, id }: { ctx: ServiceContext; id: string }) => {
  const session = await requireSession({ ctx, id });
  const [deleted] = await ctx.db
    .delete(researchSessions)
    .where(
      and(eq(researchSessions.id, session.id), inArray(researchSessions.status, ["completed", "failed", "cancelled"])),
    )
    .returning({ id: researchSessions.id });
  if (!deleted) {
    throw new ApiError("CONFLICT", `Session ${id} is ${session.status}; cancel it before deleting it.`);
  }
  const prefix = sessionPrefix(session.userId, session.id);
  const work = async () => {
    let cursor: string | undefined;
    do {
      const listed = await ctx.env.FILES.list({ prefix, ...(cursor ? { cursor } : {}) });
      if (listed.objects.length > 0) await ctx.env.FILES.delete(listed.objects.map((object) => object.key));
      cursor = listed.truncated ? listed.cursor : undefined;
    } while (cursor);
    await createVectorStore(ctx).deleteNamespace(researchNamespace(session.id));
  };
  ctx.defer(work());
  ctx.audit({ action: "research.delete", resourceType: "research_session", resourceId: id });
};

// Rough sizes of one call of each kind, in tokens (prompt, answer), and how long things take, for estimates.
const PLAN_TOKENS = { input: 450, output: 120 };
const SECTION_PROMPT_TOKENS = 450;
const PASSAGE_TOKENS = 320;
const SECTION_OUTPUT_TOKENS = 650;
const SUMMARY_TOKENS = { input: 350, output: 250 };
const SECONDS = { modelCall: 6, search: 2, scrape: 4 };

/**
 * What a session would take, without running it: model calls, tokens, cost (at the price of the model `auto`
 * picks first) and time, for a query and depth, and the budget it would run under.
 * @example
 * const estimate = estimateSession({ ctx, input: { query, depth: "deep" } });
 */
export const estimateSession = ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    query: string;
    depth: ResearchDepth;
    max_sources?: number | undefined;
    budget?: Partial<ResearchBudget> | undefined;
    sources?: ResearchSourceKind | undefined;
  };
}) => {
  requireUser(ctx);
  const kind = input.sources ?? defaultSourceKind(ctx);
  // Pages of documents are searched and read from Postgres: no web search, no scrape.
  const webSearches = kind === "documents" ? 0 : DEPTHS[input.depth].subQuestions;
  const depth = DEPTHS[input.depth];
  const questions = depth.subQuestions;
  const sources = input.max_sources ?? depth.defaultSources;
  const queryTokens = Math.ceil(input.query.length / 4);
  const tokensInput =
    PLAN_TOKENS.input +
    queryTokens +
    questions * (SECTION_PROMPT_TOKENS + queryTokens + depth.passagesPerSection * PASSAGE_TOKENS) +
    SUMMARY_TOKENS.input +
    questions * SECTION_OUTPUT_TOKENS;
  const tokensOutput = PLAN_TOKENS.output + questions * SECTION_OUTPUT_TOKENS + SUMMARY_TOKENS.output;
  let model: { provider: string; id: string } | null = null;
  let cost = 0;
  try {
    const first = resolveCandidates(configuredProviders(ctx.env), "auto")[0];
    if (first) {
      model = { provider: first.provider.id, id: first.model.id };
      cost = costOf(first.model, { inputTokens: tokensInput, outputTokens: tokensOutput });
    }
  } catch {
    // No provider configured: the estimate still says what the work is, at no known price.
  }
  const modelCalls = 1 + questions + 1;
  const scrapes = kind === "documents" ? 0 : sources;
  const seconds =
    modelCalls * SECONDS.modelCall + webSearches * SECONDS.search + Math.ceil(scrapes / 3) * SECONDS.scrape;
  return {
    depth: input.depth,
    sources: kind,
    sub_questions: questions,
    max_sources: sources,
    model_calls: modelCalls,
    tokens_input: tokensInput,
    tokens_output: tokensOutput,
    tokens: tokensInput + tokensOutput,
    cost_usd: Number(cost.toFixed(6)),
    model,
    seconds,
    searches: webSearches,
    scrapes,
    budget: budgetFor(input.depth, input.budget),
  };
};
