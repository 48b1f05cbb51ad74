/**
 * What a production deployment must not run with, each a way a setting meant for a laptop would make it unsafe:
 * mail kept in the outbox (reset links readable by whoever reads Redis or the log), a web origin over plain
 * http or on loopback (CORS and the reset link pointing at a developer's machine), FETCH_ALLOW_HOSTS (the one
 * bypass of the SSRF checks), and secrets that are missing, short, or shared. With ENVIRONMENT=production APE
 * refuses to serve (503 `CONFIG_INVALID`) naming each of them.
 */

/** The settings the production rules read. */
export type ProductionSettings = {
  EMAIL_PROVIDER: string;
  WEB_ORIGINS: string[];
  FETCH_ALLOW_HOSTS: string[];
  JWT_SECRET: string;
  WEBHOOK_SECRETS_KEY?: string | undefined;
};

/** Secrets shorter than this are refused in production. */
export const MIN_PRODUCTION_SECRET_LENGTH = 32;

const LOOPBACK = /^(localhost|.*\.localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)$/i;

const originProblem = (origin: string) => {
  const url = URL.parse(origin);
  if (!url) return `${origin} is not a URL`;
  if (url.protocol !== "https:") return `${origin} must use https:`;
  if (LOOPBACK.test(url.hostname)) return `${origin} is a loopback address`;
  return null;
};

/**
 * Every reason these settings are unsafe in production, as `[setting, why]`.
 * @example
 * productionProblems({ EMAIL_PROVIDER: "outbox", WEB_ORIGINS: [], FETCH_ALLOW_HOSTS: [], JWT_SECRET: "…" })
 * // [["EMAIL_PROVIDER", "must be ses in production: …"], ["WEB_ORIGINS", "…"], ["WEBHOOK_SECRETS_KEY", "…"]]
 */
export const productionProblems = (env: ProductionSettings): Array<[keyof ProductionSettings, string]> => {
  const problems: Array<[keyof ProductionSettings, string]> = [];
  if (env.EMAIL_PROVIDER !== "ses") {
    problems.push(["EMAIL_PROVIDER", "must be ses in production: the outbox keeps reset links in Redis and the log"]);
  }
  if (env.WEB_ORIGINS.length === 0) {
    problems.push(["WEB_ORIGINS", "must name the web UI's https origin in production (reset links point at it)"]);
  }
  const bad = env.WEB_ORIGINS.map(originProblem).filter((problem) => problem !== null);
  if (bad.length > 0) problems.push(["WEB_ORIGINS", `must be public https origins in production: ${bad.join("; ")}`]);
  if (env.FETCH_ALLOW_HOSTS.length > 0) {
    problems.push(["FETCH_ALLOW_HOSTS", "must be empty in production: it lets users' URLs past the SSRF checks"]);
  }
  if (env.JWT_SECRET.length < MIN_PRODUCTION_SECRET_LENGTH) {
    problems.push(["JWT_SECRET", `must be at least ${MIN_PRODUCTION_SECRET_LENGTH} characters in production`]);
  }
  if (!env.WEBHOOK_SECRETS_KEY || env.WEBHOOK_SECRETS_KEY.length < MIN_PRODUCTION_SECRET_LENGTH) {
    problems.push([
      "WEBHOOK_SECRETS_KEY",
      `is required in production, at least ${MIN_PRODUCTION_SECRET_LENGTH} characters (it seals webhook secrets)`,
    ]);
  } else if (env.WEBHOOK_SECRETS_KEY === env.JWT_SECRET) {
    problems.push(["WEBHOOK_SECRETS_KEY", "must differ from JWT_SECRET, so rotating one leaves the other"]);
  }
  return problems;
};
