import type { ResearchProgress, ResearchSession, ResearchState, ResearchUsage } from "../../db/schema/index.js";
import { userPrefix } from "../../integrations/files.js";
import { firecrawlFromEnv } from "../../integrations/firecrawl.js";
import type { ServiceContext } from "../context.js";
import { heldBy, keepHold, RESEARCH_JOBS } from "../jobs/lease.js";
import type { SliceBudget } from "../jobs/slice.js";
import { DEPTHS } from "./depth.js";
import { appendEvent, type ResearchEventType } from "./events.js";
import type { CallSpend } from "./model.js";
import { requireWebSearch } from "./web-search.js";

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

/** Requests one model call makes, counted against the slice: the call, and its usage and cache in Redis. */
const MODEL_CALL_REQUESTS = 3;

/**
 * One slice's working copy of a session, shared by the pipeline's steps (steps/*.ts): its state, usage and
 * progress, and how to checkpoint them (under the slice's hold), send progress events, count spend and tell
 * when a budget or the slice has run out. Source texts read by an earlier slice come back from R2.
 * @example
 * const run = createRunContext(ctx, session, slice);
 * await run.save();
 */
export const createRunContext = (ctx: ServiceContext, session: ResearchSession, slice: SliceBudget) => {
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
    percent: session.progress?.percent ?? 0,
  };
  const texts = new Map<string, string>();

  // Checkpoints are written one after another, so a later snapshot never lands before an earlier one.
  let chain: Promise<unknown> = Promise.resolve();
  /** Writes the state, usage and progress; throws LostHold when the run no longer holds the session. */
  const save = () => {
    slice.spend(1);
    const next = chain.then(() => keepHold(ctx, RESEARCH_JOBS, session, { state, usage, progress }));
    chain = next.catch(() => undefined);
    return next;
  };
  const event = (type: ResearchEventType, data: Record<string, unknown>) => {
    slice.spend(1);
    return appendEvent(ctx, session.id, type, { ...data, progress: { ...progress } });
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

  return {
    ctx,
    session,
    depth,
    state,
    usage,
    progress,
    slice,
    prefix: sessionPrefix(session.userId, session.id),
    /** Texts of the sources read, by URL: this slice's reads, and earlier slices' once fetched from R2. */
    texts,
    save,
    event,
    stage: async (name: ResearchProgress["stage"], percent: number) => {
      progress.stage = name;
      progress.percent = percent;
      await save();
      await event("stage", { stage: name });
    },
    /** Counts a model call's spend into the session's usage, and checkpoints it. */
    spent: async (spend: CallSpend) => {
      slice.spend(MODEL_CALL_REQUESTS);
      usage.model_calls += 1;
      usage.tokens_input += spend.tokensInput;
      usage.tokens_output += spend.tokensOutput;
      usage.cost_usd = Number((usage.cost_usd + spend.costUsd).toFixed(6));
      await save();
    },
    /** Whether the session must stop (a budget ran out, now or before), noting why and `where`. */
    stopIfOver: (where: string) => {
      if (state.stopped_early) return true;
      const reason = overBudget();
      if (reason) state.stopped_early = `${reason} ${where}.`;
      return Boolean(reason);
    },
    countReads: () => {
      const reads = Object.values(state.reads ?? {});
      progress.sources_read = reads.filter((read) => read.status === "read").length;
      progress.sources_skipped = reads.filter((read) => read.status === "skipped").length;
    },
    /** The configured web search (Firecrawl or SearXNG); a 503 `SEARCH_NOT_CONFIGURED` without one. */
    webSearch: () => requireWebSearch(ctx.env),
    /** Firecrawl for reading web pages, when configured; else pages are read with the safe reader. */
    firecrawl: () => firecrawlFromEnv(ctx.env),
    /** A read source's text: this slice's copy, or the one an earlier slice stored in R2 ("" if not read). */
    sourceText: async (url: string) => {
      const known = texts.get(url);
      if (known !== undefined) return known;
      const entry = state.reads?.[url];
      if (entry?.status !== "read") return "";
      slice.spend(1);
      const object = await ctx.env.FILES.get(entry.object_key);
      const text = object ? await object.text() : "";
      texts.set(url, text);
      return text;
    },
    /** The update that makes the session's result final: only this slice's hold may write it. */
    held: () => heldBy(RESEARCH_JOBS, session),
  };
};

export type RunContext = ReturnType<typeof createRunContext>;

/** The pipeline stops this slice here: its checkpoint is saved and the next slice carries on. */
export class SliceEnd extends Error {
  constructor() {
    super("the slice's budget is spent");
    this.name = "SliceEnd";
  }
}

/** Ends the slice if it has spent its budget (between units of work, after at least one). */
export const endSliceIfOver = (run: RunContext) => {
  if (run.slice.over()) throw new SliceEnd();
};
