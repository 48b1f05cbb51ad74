import type { ServiceContext } from "../context.js";

// One clock per request context; a WeakMap, so it goes when the request's context does.
const clocks = new WeakMap<ServiceContext, { ms: number }>();

/**
 * The time a request has spent waiting on model providers so far, in milliseconds: the router adds each
 * attempt's wait to it, and the front door answers `x-ape-overhead-ms` as the request's time less this.
 * @example
 * const upstream = upstreamClock(ctx); // { ms: 0 } until a model call waits on a provider
 */
export const upstreamClock = (ctx: ServiceContext) => {
  let clock = clocks.get(ctx);
  if (!clock) {
    clock = { ms: 0 };
    clocks.set(ctx, clock);
  }
  return clock;
};
