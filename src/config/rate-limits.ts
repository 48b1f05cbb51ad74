/**
 * Requests per minute per route group: a sliding window per caller (the API key, else the user, else the IP).
 * Each limit can be changed per deployment with `RATE_LIMIT_<GROUP>_PER_MINUTE`. `failClosed` groups refuse
 * while Redis is unreachable; the others let requests through and log it.
 */
export const rateLimitGroups = {
  auth: { perMinute: 20, failClosed: true, setting: "RATE_LIMIT_AUTH_PER_MINUTE" },
  account: { perMinute: 300, failClosed: false, setting: "RATE_LIMIT_ACCOUNT_PER_MINUTE" },
  default: { perMinute: 600, failClosed: false, setting: "RATE_LIMIT_DEFAULT_PER_MINUTE" },
  // Readiness probes per IP: a monitor polls every few seconds; a flood gets 429 before any dependency is probed.
  health: { perMinute: 60, failClosed: false, setting: "RATE_LIMIT_HEALTH_PER_MINUTE" },
} as const;

export type RateLimitGroup = keyof typeof rateLimitGroups;
