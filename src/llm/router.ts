import { ApiError } from "../lib/errors.js";
import type { Logger } from "../lib/log.js";
import type { Breaker, CircuitState } from "./breaker.js";
import { fitRequest, requirements, requirementWords, unmet } from "./capabilities.js";
import type { ModelEntry, ModelTier } from "./models.js";
import { ProviderFailure } from "./provider-failure.js";
import { type ProviderSet, providerSettings } from "./providers/index.js";
import {
  type LlmEvent,
  type LlmProvider,
  type LlmRequest,
  type LlmResult,
  type ProviderId,
  providerIds,
} from "./types.js";

/** One provider and model to try. */
export type Candidate = { provider: LlmProvider; model: ModelEntry };

/** What a failed attempt answered, as 502 `ALL_PROVIDERS_FAILED` lists it (no secrets: SDK messages only). */
export type AttemptReport = {
  provider: ProviderId;
  model: string;
  kind: string;
  status: number | null;
  message: string;
};

export type RouterSettings = { attemptTimeoutMs: number; deadlineMs: number; maxAttempts: number };

export type RouteOptions = {
  set: ProviderSet;
  breaker: Breaker;
  settings: RouterSettings;
  log: Logger;
  /** Runs bookkeeping after the response (breaker successes). */
  defer: (work: Promise<unknown>) => void;
  /** Aborts everything when the caller goes away. */
  signal?: AbortSignal | undefined;
  /** The candidates' circuit states, when already being read (alongside other lookups, in one round trip). */
  circuits?: Promise<CircuitState[]> | undefined;
  /** Adds up the time spent waiting on providers (for `x-ape-overhead-ms`: APE's own time is the rest). */
  upstream?: { ms: number } | undefined;
};

/** One attempt's controls: its abort signal, its timer, and (for a stream) keeping both past the first token. */
type Attempt = {
  signal: AbortSignal;
  /** (Re)starts the attempt's timer. */
  arm: (idleOnly?: boolean) => void;
  /** Keeps the timer and the caller's abort after the attempt succeeds; returns what ends the attempt. */
  keep: () => () => void;
};

/** How the router got its answer. */
export type Routed = { provider: ProviderId; model: ModelEntry; attempts: AttemptReport[] };

// Longest Retry-After the router waits out itself (only when no other provider is left); longer ones move on.
const MAX_RETRY_AFTER_WAIT_MS = 5_000;
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2_000;

const noProvider = (detail: string) => {
  const settings = Object.entries(providerSettings)
    .map(([id, names]) => `${id}: ${names.join(" + ")}`)
    .join("; ");
  return new ApiError("NO_PROVIDER_CONFIGURED", `${detail} Add the settings of at least one provider (${settings}).`, {
    extensions: { settings: providerSettings },
  });
};

const unknownModel = (spec: string, set: ProviderSet) =>
  new ApiError(
    "UNKNOWN_MODEL",
    `No configured model answers to "${spec}". Use auto, fast, quality, a provider (${set.order.join(", ")}), or one of the models listed by GET /api/v1/openai/models.`,
  );

const defaultOf = (set: ProviderSet, provider: ProviderId, tier?: ModelTier) => {
  const models = set.models.filter((model) => model.provider === provider);
  return (
    (tier ? models.find((model) => model.tier === tier) : undefined) ??
    models.find((model) => model.isDefault) ??
    models[0]
  );
};

/**
 * The providers and models a model spec names, in the order to try them.
 * - `auto`: every configured provider in priority order, each with its default model;
 * - `fast` / `quality`: the same walk, with each provider's model of that tier;
 * - `groq`, `bedrock`, `openai`, `compat`: that provider alone;
 * - `provider/model` or a known model id: that model alone (a compat server takes any model id).
 */
export const resolveCandidates = (set: ProviderSet, spec: string): Candidate[] => {
  if (set.order.length === 0) throw noProvider("No LLM provider is configured.");
  const candidate = (id: ProviderId, model: ModelEntry | undefined): Candidate[] => {
    const provider = set.providers.get(id);
    return provider && model ? [{ provider, model }] : [];
  };
  if (spec === "auto" || spec === "fast" || spec === "quality") {
    const tier = spec === "auto" ? undefined : spec;
    const candidates = set.order.flatMap((id) => candidate(id, defaultOf(set, id, tier)));
    if (candidates.length === 0) throw noProvider("No configured provider has a model.");
    return candidates;
  }
  if ((providerIds as readonly string[]).includes(spec)) {
    const id = spec as ProviderId;
    if (!set.providers.has(id)) throw noProvider(`The provider "${id}" is not configured.`);
    const candidates = candidate(id, defaultOf(set, id));
    if (candidates.length === 0) throw unknownModel(spec, set);
    return candidates;
  }
  const slash = spec.indexOf("/");
  const prefix = slash > 0 ? spec.slice(0, slash) : "";
  if ((providerIds as readonly string[]).includes(prefix)) {
    const id = prefix as ProviderId;
    const modelId = spec.slice(slash + 1);
    if (!set.providers.has(id)) throw noProvider(`The provider "${id}" is not configured.`);
    const known = set.models.find((model) => model.provider === id && model.id === modelId);
    if (known) return candidate(id, known);
    const fallback = defaultOf(set, id);
    if (id === "compat" && fallback && modelId) return candidate(id, { ...fallback, id: modelId, isDefault: false });
    throw unknownModel(spec, set);
  }
  const known = set.models.find((model) => model.id === spec);
  if (known) return candidate(known.provider, known);
  throw unknownModel(spec, set);
};

/**
 * The candidates that can serve the request (tools, images, `json_schema`), so a request with an image never
 * falls back to a text-only model.
 * @throws ApiError `CAPABILITY_UNAVAILABLE` naming the field no candidate can honour, never dropping it.
 */
export const capableCandidates = (candidates: Candidate[], request: LlmRequest): Candidate[] => {
  const needs = requirements(request);
  if (needs.length === 0) return candidates;
  const capable = candidates.filter((candidate) => unmet(candidate.model.capabilities, needs) === null);
  if (capable.length > 0) return capable;
  // Named: what stops the candidate that came closest (an image by URL, not vision, when a model sees but
  // takes bytes only), since that is the field to change.
  const missed = candidates.map((candidate) => unmet(candidate.model.capabilities, needs));
  const need = needs[Math.max(0, ...missed.map((miss) => (miss ? needs.indexOf(miss) : 0)))];
  const names = candidates.map((candidate) => `${candidate.provider.id}/${candidate.model.id}`).join(", ");
  const words = need ? requirementWords[need.capability] : "";
  throw new ApiError(
    "CAPABILITY_UNAVAILABLE",
    `\`${need?.field}\` needs a model that ${words}, and none of the models this request may use does (${names}). Choose another model (GET /api/v1/openai/models lists each model's capabilities), or leave the field out.`,
    {
      extensions: {
        errors: [{ path: need?.field ?? "model", message: `needs a model that ${words}` }],
        capability: need?.capability,
      },
    },
  );
};

/** Full-jitter exponential backoff: a random wait between 0 and base·2^attempt, capped. */
const backoff = (attempt: number) => Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * The candidates in the order to try, circuit breakers considered: open circuits are skipped, a half-open one
 * is tried by one request at a time; when every circuit is open the one that failed longest ago is tried
 * anyway, so the breakers never take every provider away at once.
 */
const arrange = async (candidates: Candidate[], breaker: Breaker, circuits?: Promise<CircuitState[]>) => {
  const states = await (circuits ?? breaker.read(candidates.map((candidate) => candidate.provider)));
  const usable: { candidate: Candidate; state: CircuitState }[] = [];
  for (const [index, candidate] of candidates.entries()) {
    const state = states[index] as CircuitState;
    if (state.open) continue;
    if (state.halfOpen && !(await breaker.claimProbe(candidate.provider))) continue;
    usable.push({ candidate, state });
  }
  if (usable.length > 0) return usable;
  const oldest = candidates
    .map((candidate, index) => ({ candidate, state: states[index] as CircuitState }))
    .sort((a, b) => a.state.lastFailureAt - b.state.lastFailureAt)[0];
  return oldest ? [{ ...oldest, state: { ...oldest.state, halfOpen: true } }] : [];
};

// Providers quote parts of keys in their errors ("Incorrect API key provided: sk-...abcd"); none reach callers.
const KEY_LIKE = /\b(sk|gsk|ape|key|AKIA|ASIA)[-_A-Za-z0-9.*]{4,}/g;
const redactKeys = (message: string) => message.replace(KEY_LIKE, "[redacted]");

const report = (candidate: Candidate, failure: ProviderFailure): AttemptReport => ({
  provider: candidate.provider.id,
  model: candidate.model.id,
  kind: failure.kind,
  status: failure.status,
  message: redactKeys(failure.message),
});

/** A report as log fields: the provider's message under `reason`, not over the log line's own `message`. */
const logged = ({ message, ...rest }: AttemptReport) => ({ ...rest, reason: message });

/**
 * What the caller hears when no candidate answered. A provider that refused the request itself (400, 413, 415
 * or 422: a field its model cannot take, a body it finds invalid) is the caller's to hear about as 400
 * `PROVIDER_REJECTED_REQUEST` with that provider's message and field, even when others failed for their own
 * reasons: that refusal is what the caller can act on, and 502 would invite a retry that cannot succeed.
 */
const noAnswer = (attempts: AttemptReport[], refusal: { failure: ProviderFailure; report: AttemptReport } | null) => {
  if (!refusal) return allFailed(attempts);
  const { failure, report } = refusal;
  return new ApiError(
    "PROVIDER_REJECTED_REQUEST",
    `${report.provider} (${report.model}) refused the request: ${report.message}`,
    {
      extensions: {
        ...(failure.param ? { errors: [{ path: failure.param, message: report.message }] } : {}),
        provider: report.provider,
        providerStatus: report.status,
        attempts,
      },
    },
  );
};

const allFailed = (attempts: AttemptReport[]) =>
  new ApiError(
    "ALL_PROVIDERS_FAILED",
    attempts.length === 0
      ? "No provider could be tried before the deadline."
      : `Every provider failed: ${attempts.map((a) => `${a.provider} (${a.status ?? a.kind})`).join(", ")}.`,
    { extensions: { attempts } },
  );

/**
 * Walks the candidates with retries, backoff, per-attempt timeouts and one deadline, and hands each attempt
 * to `run`. Transient failures (timeouts, network, 429, 5xx) are retried on the same provider with backoff
 * (a 429's Retry-After opens its circuit for that long instead, and the next provider is tried); any failure
 * moves on to the next provider once the retries are used.
 *
 * A refusal (the provider's 400, 413, 415 or 422) is never retried on its provider and never counts against
 * its circuit, but it does move on to the next candidate: under `auto` the candidates are different models,
 * and a refusal is often one model's (a compat server whose model takes no tools or images, a provider's
 * stricter schema rules) that the next can serve. A request that is simply wrong is refused by each in turn,
 * which costs a few quick 400s, not a wrong answer; when none answers, the first refusal is passed on as 400
 * `PROVIDER_REJECTED_REQUEST` (see `noAnswer`).
 */
const walk = async <T>(
  candidates: Candidate[],
  options: RouteOptions,
  run: (candidate: Candidate, attempt: Attempt) => Promise<T>,
): Promise<{ value: T; routed: Routed; halfOpen: boolean }> => {
  const { breaker, settings, log } = options;
  const deadline = Date.now() + settings.deadlineMs;
  const attempts: AttemptReport[] = [];
  let refusal: { failure: ProviderFailure; report: AttemptReport } | null = null;
  const arranged = await arrange(candidates, breaker, options.circuits);
  for (const [position, { candidate, state }] of arranged.entries()) {
    const last = position === arranged.length - 1;
    for (let attempt = 0; attempt < settings.maxAttempts; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || options.signal?.aborted) throw noAnswer(attempts, refusal);
      const controller = new AbortController();
      const abort = () => controller.abort();
      options.signal?.addEventListener("abort", abort);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const handle: Attempt = {
        signal: controller.signal,
        // Until the first byte (or token) the deadline bounds the wait too; after it, only the idle time does.
        arm: (idleOnly = false) => {
          clearTimeout(timer);
          const limit = idleOnly
            ? settings.attemptTimeoutMs
            : Math.min(settings.attemptTimeoutMs, Math.max(1, deadline - Date.now()));
          timer = setTimeout(abort, limit);
        },
        keep: () => {
          kept = true;
          return () => {
            clearTimeout(timer);
            options.signal?.removeEventListener("abort", abort);
            controller.abort();
          };
        },
      };
      let kept = false;
      handle.arm();
      const startedAt = Date.now();
      try {
        const value = await run(candidate, handle);
        return {
          value,
          routed: { provider: candidate.provider.id, model: candidate.model, attempts },
          halfOpen: state.halfOpen,
        };
      } catch (error) {
        if (options.signal?.aborted) throw error;
        if (!(error instanceof ProviderFailure)) throw error;
        const reported = report(candidate, error);
        attempts.push(reported);
        if (error.kind === "refused") refusal ??= { failure: error, report: reported };
        log.warn("provider attempt failed", { ...logged(reported), attempt: attempt + 1 });
        const counts = error.transient || error.kind === "auth";
        const holdMs = error.kind === "rate_limited" ? (error.retryAfterMs ?? 0) : 0;
        const opened = counts ? await breaker.recordFailure(candidate.provider, holdMs) : false;
        if (!error.transient || attempt + 1 >= settings.maxAttempts) break;
        if (opened && !last) break;
        const wait = error.retryAfterMs ?? backoff(attempt);
        if (wait > MAX_RETRY_AFTER_WAIT_MS || Date.now() + wait >= deadline) break;
        await sleep(wait, options.signal);
      } finally {
        if (options.upstream) options.upstream.ms += Date.now() - startedAt;
        // A stream that goes on keeps its timer and its link to the caller's signal until it ends.
        if (!kept) {
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", abort);
        }
      }
    }
  }
  throw noAnswer(attempts, refusal);
};

/**
 * Answers a request from the first candidate that succeeds.
 * @example
 * const { result, routed } = await routeComplete(resolveCandidates(set, "auto"), request, options);
 */
export const routeComplete = async (
  candidates: Candidate[],
  request: LlmRequest,
  options: RouteOptions,
): Promise<{ result: LlmResult; routed: Routed }> => {
  const { value, routed, halfOpen } = await walk(candidates, options, (candidate, attempt) =>
    candidate.provider.complete(candidate.model.id, fitRequest(candidate.model.capabilities, request), attempt.signal),
  );
  const provider = candidates.find((candidate) => candidate.provider.id === routed.provider)?.provider;
  if (provider) options.defer(options.breaker.recordSuccess(provider, halfOpen));
  return { result: value, routed };
};

/**
 * Opens a stream on the first candidate that sends a first token; a stream that fails before it falls back
 * like any failed call. Resolves once a first token has arrived, so a caller can still answer 502 with a
 * problem before it starts its own stream. After the first token there is no fallback: a failure is the
 * stream's last event, of type `error`. Each event must come within the attempt timeout.
 */
export const routeStream = async (
  candidates: Candidate[],
  request: LlmRequest,
  options: RouteOptions,
): Promise<{ routed: Routed; events: AsyncIterable<LlmEvent> }> => {
  const started = await walk(candidates, options, async (candidate, attempt) => {
    const fitted = fitRequest(candidate.model.capabilities, request);
    const iterator = candidate.provider.stream(candidate.model.id, fitted, attempt.signal)[Symbol.asyncIterator]();
    const head: LlmEvent[] = [];
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      head.push(next.value);
      if (next.value.type === "text" || next.value.type === "tool_call" || next.value.type === "finish") break;
    }
    // The first token is in: from here each event must come within the attempt timeout of the last, and
    // the caller's abort (cancel, disconnect) still reaches the provider.
    return { candidate, iterator, head, arm: attempt.arm, end: attempt.keep() };
  });
  const { candidate, iterator, head, arm, end } = started.value;
  const { breaker, defer, log } = options;
  async function* events(): AsyncIterable<LlmEvent> {
    try {
      yield* head;
      for (;;) {
        arm(true);
        const next = await iterator.next();
        if (next.done) break;
        yield next.value;
      }
      defer(breaker.recordSuccess(candidate.provider, started.halfOpen));
    } catch (error) {
      if (options.signal?.aborted) return; // the caller stopped it: not the provider's failure
      const failure =
        error instanceof ProviderFailure
          ? error
          : new ProviderFailure({ provider: candidate.provider.id, kind: "network", message: String(error) });
      log.warn("stream failed after its first token", logged(report(candidate, failure)));
      defer(breaker.recordFailure(candidate.provider));
      yield {
        type: "error",
        code: "STREAM_INTERRUPTED",
        message: `The ${candidate.provider.id} stream failed after it started: ${failure.message}`,
      };
    } finally {
      // However the stream ends (done, failed, or its reader stopped), the provider call ends with it.
      end();
      await iterator.return?.();
    }
  }
  return { routed: started.routed, events: events() };
};
