import type { Redis } from "../integrations/redis.js";
import type { LlmProvider } from "./types.js";

/**
 * A circuit breaker per provider endpoint whose state lives in Redis, so every isolate learns of an outage
 * from the first one that saw it. Keys, per endpoint:
 *   llm:cb:{provider}:{endpoint}:fails   failures in the current window (expires with the window)
 *   llm:cb:{provider}:{endpoint}:open    set while the circuit is open (expires after the cool-down)
 *   llm:cb:{provider}:{endpoint}:tripped set while a recently opened circuit is half-open: one failure re-opens
 *   llm:cb:{provider}:{endpoint}:probe   held by the one request probing a half-open circuit
 *   llm:cb:{provider}:{endpoint}:last    when it last failed (ms), to pick a provider when all are open
 */
export type BreakerSettings = { failures: number; windowMs: number; cooldownMs: number };

export type CircuitState = { provider: LlmProvider; open: boolean; halfOpen: boolean; lastFailureAt: number };

const key = (provider: LlmProvider, part: string) => `llm:cb:${provider.id}:${provider.endpointKey}:${part}`;

// KEYS: fails, open, tripped, last. ARGV: window ms, threshold, cool-down ms, now, tripped memory ms, hold ms.
const RECORD_FAILURE = `
local fails = redis.call('incr', KEYS[1])
if fails == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end
redis.call('set', KEYS[4], ARGV[4], 'px', ARGV[5])
if fails >= tonumber(ARGV[2]) or redis.call('exists', KEYS[3]) == 1 then
  local hold = math.max(tonumber(ARGV[3]), tonumber(ARGV[6]))
  redis.call('set', KEYS[2], ARGV[4], 'px', hold)
  redis.call('set', KEYS[3], '1', 'px', hold + tonumber(ARGV[5]))
  redis.call('del', KEYS[1])
  return 1
end
if tonumber(ARGV[6]) > 0 then
  redis.call('set', KEYS[2], ARGV[4], 'px', ARGV[6])
  return 1
end
return 0`;

/** How long a half-open circuit remembers that it was open, and a failure time is kept. */
const MEMORY_MS = 10 * 60_000;
const PROBE_HOLD_MS = 30_000;

export const createBreaker = (redis: Redis, settings: BreakerSettings) => ({
  /** The state of each provider's circuit, in one round trip. */
  async read(providers: LlmProvider[]): Promise<CircuitState[]> {
    if (providers.length === 0) return [];
    const keys = providers.flatMap((provider) => [
      key(provider, "open"),
      key(provider, "tripped"),
      key(provider, "last"),
    ]);
    const values = await redis.mget<(string | number | null)[]>(...keys);
    return providers.map((provider, index) => ({
      provider,
      open: values[index * 3] != null,
      halfOpen: values[index * 3] == null && values[index * 3 + 1] != null,
      lastFailureAt: Number(values[index * 3 + 2] ?? 0),
    }));
  },

  /** Whether this request may probe a half-open circuit (only one request at a time does). */
  async claimProbe(provider: LlmProvider): Promise<boolean> {
    const claimed = await redis.set(key(provider, "probe"), "1", { nx: true, px: PROBE_HOLD_MS });
    return claimed === "OK";
  },

  /**
   * Counts a failure; opens the circuit at the threshold, at once when half-open, or for `holdMs` when the
   * provider said how long to stay away (429 Retry-After). Returns whether the circuit is now open.
   */
  async recordFailure(provider: LlmProvider, holdMs = 0): Promise<boolean> {
    const opened = await redis.eval(
      RECORD_FAILURE,
      [key(provider, "fails"), key(provider, "open"), key(provider, "tripped"), key(provider, "last")],
      [settings.windowMs, settings.failures, settings.cooldownMs, Date.now(), MEMORY_MS, Math.round(holdMs)].map(
        String,
      ),
    );
    await redis.del(key(provider, "probe"));
    return Number(opened) === 1;
  },

  /**
   * A successful probe closes a half-open circuit. Other successes change nothing: the circuit opens on
   * failures counted within a window, so a healthy provider costs no Redis write.
   */
  async recordSuccess(provider: LlmProvider, wasHalfOpen: boolean): Promise<void> {
    if (!wasHalfOpen) return;
    await redis.del(key(provider, "fails"), key(provider, "tripped"), key(provider, "probe"), key(provider, "open"));
  },
});

export type Breaker = ReturnType<typeof createBreaker>;
