import { and, eq, lt, or, type SQL, sql } from "drizzle-orm";
import {
  type ResearchCandidate,
  type ResearchFailure,
  type ResearchProgress,
  type ResearchSession,
  type ResearchState,
  type ResearchUsage,
  researchSessions,
  type SkippedSource,
  type SourceRead,
  type WrittenSection,
} from "../../db/schema/index.js";
import { userPrefix } from "../../integrations/files.js";
import { type FirecrawlClient, FirecrawlFailure, firecrawlFromEnv } from "../../integrations/firecrawl.js";
import { safeFetchFromEnv } from "../../integrations/safe-fetch.js";
import { createWebReader } from "../../integrations/web-reader.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";
import { recordEvent, sendFirstAttempts } from "../webhooks/events.js";
import { researchEventData } from "../webhooks/payloads.js";
import { cacheReport } from "./cache.js";
import { hostUnder } from "./canonical-url.js";
import { checkSection } from "./citations.js";
import { DEPTHS } from "./depth.js";
import { appendEvent } from "./events.js";
import { type CallSpend, planQuestions, writeSection, writeSummary } from "./model.js";
import { draftNumbering, numberSources, reportMarkdown } from "./report.js";
import { mergeResults } from "./search.js";
import { indexSource, rankPassages } from "./source-index.js";

/** How long one run holds a session before another delivery may take it over. */
const LEASE_SECONDS = 15 * 60;
/** Sources read at once. */
const READ_CONCURRENCY = 3;
/** Firecrawl failures about the account, not the page: the whole run waits or fails, no source is skipped. */
const ACCOUNT_FAILURES = new Set(["RATE_LIMITED", "PAYMENT_REQUIRED", "UNAUTHORIZED"]);

/** What one delivery of `research.run` came to, for the queue consumer to ack or retry. */
export type ResearchRunOutcome =
  | { ok: true; status: "completed" | "failed" | "cancelled" | "skipped" }
  | { ok: false; error: string; retryAfterSeconds: number };

/** The R2 prefix of one session's intermediate data. */
export const sessionPrefix = (userId: string, sessionId: string) => `${userPrefix(userId)}research/${sessionId}/`;

const zeroUsage = (): ResearchUsage => ({
  model_calls: 0,
  tokens_input: 0,
  tokens_output: 0,
  cost_usd: 0,
  searches: 0,
  scrapes: 0,
});

const failureOf = (error: unknown): ResearchFailure => {
  if (error instanceof ApiError) {
    const retryable = error.code === "NOT_READY" || error.code === "ALL_PROVIDERS_FAILED";
    return { code: error.code, message: error.message, retryable };
  }
  if (error instanceof FirecrawlFailure) {
    return { code: `FIRECRAWL_${error.code}`, message: error.message, retryable: error.retryable };
  }
  return { code: "RESEARCH_CRASHED", message: "The session stopped unexpectedly; it is retried.", retryable: true };
};

/** Takes the session for this run: `pending`, or `running` with a lapsed lease. */
const claim = async (ctx: ServiceContext, sessionId: string) => {
  const [claimed] = await ctx.db
    .update(researchSessions)
    .set({
      status: "running",
      attempt: sql`${researchSessions.attempt} + 1`,
      leaseUntil: sql`now() + make_interval(secs => ${LEASE_SECONDS})`,
      startedAt: sql`coalesce(${researchSessions.startedAt}, now())`,
    })
    .where(
      and(
        eq(researchSessions.id, sessionId),
        or(
          eq(researchSessions.status, "pending"),
          and(eq(researchSessions.status, "running"), lt(researchSessions.leaseUntil, sql`now()`)),
        ),
      ),
    )
    .returning();
  if (claimed) return { claimed } as const;
  const [row] = await ctx.db
    .select({ status: researchSessions.status, leaseUntil: researchSessions.leaseUntil })
    .from(researchSessions)
    .where(eq(researchSessions.id, sessionId));
  return { claimed: null, current: row ?? null } as const;
};

/** This run's hold on the session: only the claim's attempt, still running, may write. */
const heldBy = (session: ResearchSession) =>
  and(
    eq(researchSessions.id, session.id),
    eq(researchSessions.attempt, session.attempt),
    eq(researchSessions.status, "running"),
  );

/** The run stops here: the session was cancelled or another run took it over. */
class LostHold extends Error {}

/**
 * One delivery of `research.run`: plan, search, read, rank, write, each step's output checkpointed in the
 * session's `state` before the next starts (under the claim's attempt), so a redelivered, retried or restarted
 * run goes on after the last finished step (and, within reading and writing, after the last finished source or
 * section). Budgets are checked before every model call and between steps; one that runs out ends the session
 * with what it has, saying so. Idempotent: a duplicate delivery finds the session taken or done.
 * @example
 * const outcome = await runResearchSession({ ctx, sessionId: "res_…", delivery: { attempts: 1, last: false } });
 */
export const runResearchSession = async ({
  ctx,
  sessionId,
  delivery,
}: {
  ctx: ServiceContext;
  sessionId: string;
  delivery: { attempts: number; last: boolean };
}): Promise<ResearchRunOutcome> => {
  const taken = await claim(ctx, sessionId);
  if (!taken.claimed) {
    const current = taken.current;
    if (current?.status !== "running") return { ok: true, status: "skipped" };
    const wait = Math.max(5, Math.ceil(((current?.leaseUntil?.getTime() ?? Date.now()) - Date.now()) / 1000));
    return { ok: false, error: "another run holds the session", retryAfterSeconds: wait };
  }
  const session = taken.claimed;
  // The run acts for the session's owner: its model calls count against their budget and usage.
  ctx.caller = { kind: "job", userId: session.userId, jobId: session.id };
  const run = createRun(ctx, session);
  try {
    await run.pipeline();
    return { ok: true, status: "completed" };
  } catch (error) {
    if (error instanceof LostHold) return { ok: true, status: "cancelled" };
    const failure = failureOf(error);
    if (failure.code === "RESEARCH_CRASHED") ctx.log.error("research crashed", { researchId: sessionId, error });
    else ctx.log.warn("research failed", { researchId: sessionId, code: failure.code, retryable: failure.retryable });
    await run.flush().catch(() => undefined);
    if (failure.retryable && !delivery.last) {
      const [requeued] = await ctx.db
        .update(researchSessions)
        .set({ status: "pending", error: failure, leaseUntil: null })
        .where(heldBy(session))
        .returning({ id: researchSessions.id });
      if (requeued) await appendEvent(ctx, session.id, "retrying", { error: failure });
      const hinted = error instanceof FirecrawlFailure ? (error.retryAfterSeconds ?? 0) : 0;
      return {
        ok: false,
        error: failure.message,
        retryAfterSeconds: Math.max(hinted, Math.min(300, 5 * 2 ** delivery.attempts)),
      };
    }
    const failed = await failSession(ctx, heldBy(session), failure);
    if (failed) await appendEvent(ctx, session.id, "failed", { error: failure });
    return { ok: true, status: "failed" };
  }
};

/** One run's working copy of the session, and the steps of its pipeline. */
const createRun = (ctx: ServiceContext, session: ResearchSession) => {
  const depth = DEPTHS[session.depth];
  const budget = session.budget ?? depth.budget;
  const state: ResearchState = structuredClone(session.state ?? {});
  const usage: ResearchUsage = { ...zeroUsage(), ...(session.usage ?? {}) };
  const startedAt = session.startedAt?.getTime() ?? Date.now();
  const progress: ResearchProgress = {
    stage: "planning",
    sub_questions: state.plan?.sub_questions.length ?? 0,
    sources_found: state.search?.results.length ?? 0,
    sources_read: 0,
    sources_skipped: 0,
    sections_written: state.sections?.length ?? 0,
    percent: 0,
  };
  const prefix = sessionPrefix(session.userId, session.id);
  const texts = new Map<string, string>();

  const countReads = () => {
    const reads = Object.values(state.reads ?? {});
    progress.sources_read = reads.filter((read) => read.status === "read").length;
    progress.sources_skipped = reads.filter((read) => read.status === "skipped").length;
  };

  // Checkpoints are written one after another, so a later snapshot never lands before an earlier one.
  let chain: Promise<unknown> = Promise.resolve();
  const writeCheckpoint = async () => {
    const [held] = await ctx.db
      .update(researchSessions)
      .set({ state, usage, progress, leaseUntil: sql`now() + make_interval(secs => ${LEASE_SECONDS})` })
      .where(heldBy(session))
      .returning({ id: researchSessions.id });
    if (!held) throw new LostHold();
  };
  /** Writes the state, usage and progress; throws {@link LostHold} when the run no longer holds the session. */
  const save = () => {
    const next = chain.then(writeCheckpoint);
    chain = next.catch(() => undefined);
    return next;
  };
  const event = (type: Parameters<typeof appendEvent>[2], data: Record<string, unknown>) =>
    appendEvent(ctx, session.id, type, { ...data, progress: { ...progress } });
  const stage = async (name: ResearchProgress["stage"], percent: number) => {
    progress.stage = name;
    progress.percent = percent;
    await save();
    await event("stage", { stage: name });
  };

  const spent = async (spend: CallSpend) => {
    usage.model_calls += 1;
    usage.tokens_input += spend.tokensInput;
    usage.tokens_output += spend.tokensOutput;
    usage.cost_usd = Number((usage.cost_usd + spend.costUsd).toFixed(6));
    await save();
  };

  /** Why the session must stop now, or null while every cap has room. */
  const overBudget = (): string | null => {
    const tokens = usage.tokens_input + usage.tokens_output;
    if (tokens >= budget.max_tokens) return `the token budget (${budget.max_tokens}) was used up`;
    if (usage.cost_usd >= budget.max_cost_usd) return `the cost budget ($${budget.max_cost_usd}) was used up`;
    if ((Date.now() - startedAt) / 1000 >= budget.max_seconds) {
      return `the time budget (${budget.max_seconds} s) ran out`;
    }
    return null;
  };
  const stopIfOver = (where: string) => {
    if (state.stopped_early) return true;
    const reason = overBudget();
    if (reason) state.stopped_early = `${reason} ${where}.`;
    return Boolean(reason);
  };

  const firecrawl = (): FirecrawlClient => {
    const client = firecrawlFromEnv(ctx.env);
    if (!client) {
      throw new ApiError("SEARCH_NOT_CONFIGURED", "Research searches the web with Firecrawl: set FIRECRAWL_API_KEY.");
    }
    return client;
  };

  const plan = async () => {
    if (state.plan) return state.plan.sub_questions;
    await stage("planning", 5);
    const questions = await planQuestions(ctx, { query: session.query, count: depth.subQuestions, spent });
    state.plan = { sub_questions: questions };
    progress.sub_questions = questions.length;
    await save();
    await event("plan", { sub_questions: questions });
    return questions;
  };

  const search = async (questions: string[]) => {
    if (state.search) return state.search.results;
    await stage("searching", 10);
    const client = firecrawl();
    const include = session.includeDomains;
    const exclude = session.excludeDomains;
    const perQuestion = Math.min(20, Math.max(3, session.maxSources));
    const hits: Array<Array<{ url: string; title: string; description: string }>> = [];
    for (const question of questions) {
      // Firecrawl takes one list or the other; with both, the include list goes to Firecrawl and code drops
      // the excluded hosts.
      const found = await client.search(question, {
        limit: perQuestion,
        ...(include.length > 0 ? { includeDomains: include } : exclude.length > 0 ? { excludeDomains: exclude } : {}),
      });
      usage.searches += 1;
      hits.push(found);
    }
    const allowed = (url: string) => {
      const host = new URL(url).hostname;
      if (include.length > 0 && !include.some((domain) => hostUnder(host, domain))) return false;
      return !exclude.some((domain) => hostUnder(host, domain));
    };
    const results = mergeResults(hits, session.maxSources, allowed);
    state.search = { results };
    progress.sources_found = results.length;
    await save();
    await event("sources", { found: results.length, urls: results.map((result) => result.url) });
    return results;
  };

  const readOne = async (candidate: ResearchCandidate, index: number): Promise<SourceRead> => {
    let text = "";
    let title = candidate.title;
    let reason: string | null = null;
    try {
      const page = await firecrawl().scrape(candidate.url, { formats: ["markdown"], onlyMainContent: true });
      usage.scrapes += 1;
      if (page.metadata.statusCode >= 400) return { status: "skipped", reason: `HTTP ${page.metadata.statusCode}` };
      text = page.markdown ?? "";
      title = page.metadata.title || title;
    } catch (error) {
      if (error instanceof FirecrawlFailure && ACCOUNT_FAILURES.has(error.code)) throw error;
      reason = `Firecrawl could not read it (${error instanceof FirecrawlFailure ? error.code : "error"}: ${error instanceof Error ? error.message : String(error)})`;
    }
    if (reason !== null) {
      // The page itself may still be there: the safe fetcher (SSRF-checked on every hop) tries it directly.
      try {
        const page = await createWebReader({ safeFetch: safeFetchFromEnv(ctx.env) }).read(candidate.url);
        text = page.markdown;
        title = page.title || title;
      } catch (error) {
        return {
          status: "skipped",
          reason: `${reason}; fetching it directly failed too (${error instanceof Error ? error.message : String(error)})`,
        };
      }
    }
    if (text.trim().length < 40) return { status: "skipped", reason: "the page has no readable text" };
    const objectKey = `${prefix}sources/${index}.md`;
    await ctx.env.FILES.put(objectKey, text, {
      httpMetadata: { contentType: "text/markdown; charset=utf-8" },
      customMetadata: { userId: session.userId, sessionId: session.id, url: candidate.url },
    });
    texts.set(candidate.url, text);
    const chunks = await indexSource(ctx, { sessionId: session.id, sourceIndex: index, url: candidate.url, text });
    return {
      status: "read",
      title: title || candidate.url,
      accessed_at: new Date().toISOString(),
      object_key: objectKey,
      chars: text.length,
      chunks,
    };
  };

  const read = async (candidates: ResearchCandidate[]) => {
    state.reads ??= {};
    const reads = state.reads;
    countReads();
    const waiting = candidates
      .map((candidate, index) => ({ candidate, index }))
      .filter(({ candidate }) => !reads[candidate.url]);
    if (waiting.length === 0) return;
    await stage(
      "reading",
      20 + Math.round((40 * (candidates.length - waiting.length)) / Math.max(1, candidates.length)),
    );
    let next = 0;
    const worker = async () => {
      while (next < waiting.length) {
        const item = waiting[next];
        next += 1;
        if (!item) return;
        // Reading costs no tokens, but time: a session out of time stops reading and writes what it has.
        if (stopIfOver("while reading sources")) return;
        const outcome = await readOne(item.candidate, item.index);
        reads[item.candidate.url] = outcome;
        countReads();
        progress.percent = 20 + Math.round((40 * Object.keys(reads).length) / candidates.length);
        await save();
        if (outcome.status === "read") await event("source_read", { url: item.candidate.url, title: outcome.title });
        else await event("source_skipped", { url: item.candidate.url, reason: outcome.reason });
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, waiting.length) }, worker));
  };

  const rank = async (questions: string[]) => {
    if (state.ranked) return state.ranked;
    await stage("ranking", 62);
    const ranked = [];
    for (const question of questions) {
      ranked.push({
        question,
        passages: await rankPassages(ctx, { sessionId: session.id, question, k: depth.passagesPerSection }),
      });
    }
    state.ranked = ranked;
    await save();
    return ranked;
  };

  const sourceText = async (url: string) => {
    const known = texts.get(url);
    if (known !== undefined) return known;
    const entry = state.reads?.[url];
    if (entry?.status !== "read") return "";
    const object = await ctx.env.FILES.get(entry.object_key);
    const text = object ? await object.text() : "";
    texts.set(url, text);
    return text;
  };

  const write = async (ranked: NonNullable<ResearchState["ranked"]>) => {
    state.sections ??= [];
    const sections = state.sections;
    if (sections.length >= ranked.length) return sections;
    await stage("writing", 65 + Math.round((30 * sections.length) / ranked.length));
    for (const { question, passages } of ranked.slice(sections.length)) {
      let section: WrittenSection;
      if (passages.length === 0) section = { question, text: "", cited: [], flagged: [] };
      else {
        if (stopIfOver(`after ${sections.length} of ${ranked.length} sections were written`)) break;
        const draft = await writeSection(ctx, { query: session.query, question, passages, spent });
        for (const url of new Set(passages.map((passage) => passage.url))) await sourceText(url);
        const {
          kept: _kept,
          removed: _removed,
          ...checked
        } = checkSection({
          question,
          draft,
          passages,
          sourceText: (url) => texts.get(url) ?? "",
        });
        section = checked;
      }
      sections.push(section);
      progress.sections_written = sections.length;
      progress.percent = 65 + Math.round((30 * sections.length) / ranked.length);
      await save();
      await event("section", { question, index: sections.length - 1, citations: section.cited.length });
    }
    return sections;
  };

  const finish = async (questions: string[], sections: WrittenSection[]) => {
    const { texts: draftTexts, draft } = draftNumbering(sections);
    let summary = {
      text: "",
      cited: [] as Array<{ url: string; quote: string }>,
      flagged: [] as WrittenSection["flagged"],
    };
    const written = sections.filter((section) => section.text.trim() !== "");
    if (written.length > 0 && !stopIfOver("before the summary was written")) {
      const text = await writeSummary(ctx, {
        query: session.query,
        sections: sections.map((section, index) => ({ question: section.question, text: draftTexts[index] ?? "" })),
        spent,
      });
      // The summary cites the draft's numbers; each is checked as a section's passage is, against its quote.
      const checked = checkSection({
        question: "summary",
        draft: { text, quotes: draft.map((source, index) => ({ n: index + 1, quote: source.quote })) },
        passages: draft.map((source, index) => ({
          chunk_id: `draft-${index + 1}`,
          url: source.url,
          text: source.quote,
        })),
        sourceText: (url) => texts.get(url) ?? "",
      });
      for (const source of draft) await sourceText(source.url);
      summary = { text: checked.text, cited: checked.cited, flagged: checked.flagged };
    }
    if (summary.text === "") {
      summary.text =
        written.length > 0
          ? "The summary was not written because the session's budget ran out; the sections below hold what was found."
          : "No source that was read answers this question.";
    }
    const reads = state.reads ?? {};
    const { texts: final, sources } = numberSources([summary, ...sections], (url) => {
      const entry = reads[url];
      return entry?.status === "read"
        ? { title: entry.title, accessed_at: entry.accessed_at }
        : { title: url, accessed_at: new Date().toISOString() };
    });
    const skipped: SkippedSource[] = Object.entries(reads).flatMap(([url, entry]) =>
      entry.status === "skipped" ? [{ url, reason: entry.reason }] : [],
    );
    const unread = (state.search?.results ?? []).filter((candidate) => !reads[candidate.url]);
    for (const candidate of unread) skipped.push({ url: candidate.url, reason: "not read: the session stopped early" });
    const finalSections = questions.map((question, index) => ({
      question,
      text: final[index + 1] ?? (index < sections.length ? "" : "_Not written: the session stopped early._"),
    }));
    const flagged = [...summary.flagged, ...sections.flatMap((section) => section.flagged)];
    const report = reportMarkdown({
      query: session.query,
      summary: final[0] ?? summary.text,
      sections: finalSections,
      sources,
      skipped,
      stoppedEarly: state.stopped_early ?? null,
    });
    const citationsKept = final.reduce((count, text) => count + (text.match(/\[\d+\]/g)?.length ?? 0), 0);
    progress.stage = "done";
    progress.percent = 100;
    // The report becomes the session's in this one update, with its webhook event, or not at all.
    const outcome = await ctx.db.transaction(async (tx) => {
      const [done] = await tx
        .update(researchSessions)
        .set({
          status: "completed",
          summary: final[0] ?? summary.text,
          sources,
          report,
          skippedSources: skipped,
          citationCheck: {
            citations_kept: citationsKept,
            citations_removed: flagged.length,
            flagged,
          },
          stoppedEarly: state.stopped_early ?? null,
          state,
          usage,
          progress,
          error: null,
          leaseUntil: null,
          completedAt: new Date(),
        })
        .where(heldBy(session))
        .returning();
      if (!done) return null;
      const deliveries = await recordEvent(tx, {
        userId: done.userId,
        type: "research.completed",
        webhookUrl: done.webhookUrl,
        data: researchEventData({ ...done, status: "completed" }),
      });
      return { completed: done, deliveries };
    });
    if (!outcome) throw new LostHold();
    const { completed } = outcome;
    await sendFirstAttempts(ctx, outcome.deliveries);
    await event("completed", { sources: sources.length, stopped_early: state.stopped_early ?? null });
    await cacheReport(ctx, completed);
    ctx.log.info("research completed", { researchId: session.id, sources: sources.length, calls: usage.model_calls });
  };

  return {
    /** Writes what the run has so far (usage above all), e.g. before it fails. */
    flush: () => save(),
    pipeline: async () => {
      const questions = await plan();
      if (!stopIfOver("after planning")) {
        const candidates = await search(questions);
        await read(candidates);
      }
      const ranked = await rank(questions);
      const sections = await write(ranked);
      await finish(questions, sections);
    },
  };
};

/** A dead-lettered run: the session fails with that reason, unless it finished or was cancelled meanwhile. */
export const failDeadLetteredSession = async ({ ctx, sessionId }: { ctx: ServiceContext; sessionId: string }) => {
  const failure = {
    code: "DEAD_LETTERED",
    message: "The session failed on every delivery and was set aside; retry it.",
    retryable: true,
  };
  const failed = await failSession(
    ctx,
    and(eq(researchSessions.id, sessionId), sql`${researchSessions.status} in ('pending', 'running')`),
    failure,
  );
  if (failed) await appendEvent(ctx, sessionId, "failed", { error: failure });
};

/**
 * Fails the session `where` selects, recording `research.failed` for the owner's endpoints (and the session's
 * own `webhook_url`) in the same transaction; says whether a session was failed.
 */
const failSession = async (ctx: ServiceContext, where: SQL | undefined, failure: ResearchFailure) => {
  const deliveries = await ctx.db.transaction(async (tx) => {
    const [failed] = await tx
      .update(researchSessions)
      .set({ status: "failed", error: failure, leaseUntil: null, completedAt: new Date() })
      .where(where)
      .returning();
    if (!failed) return null;
    return recordEvent(tx, {
      userId: failed.userId,
      type: "research.failed",
      webhookUrl: failed.webhookUrl,
      data: researchEventData({ ...failed, status: "failed" }),
    });
  });
  if (!deliveries) return false;
  await sendFirstAttempts(ctx, deliveries);
  return true;
};
