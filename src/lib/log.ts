/**
 * Structured JSON logs: one object a line, with the request id, never a secret. Values under keys that look
 * sensitive are replaced before anything is written, however deep they sit.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SENSITIVE_KEY =
  /pass(word)?|secret|token|authori[sz]ation|cookie|api[-_]?key|^key$|credential|signature|session|dsn|database_url/i;

const REDACTED = "[redacted]";

// drizzle's DrizzleQueryError says `Failed query: <sql>\nparams: <every bound value>`: password hashes, token
// hashes, sealed secrets, users' text. The SQL stays (it names what failed); the values never reach a log.
const QUERY_PARAMS = /(Failed query: [\s\S]*?\nparams: )[\s\S]*$/;

/** An error as logs show it: its own message and stack without bound parameters, and its cause's message. */
const redactError = (error: Error): Record<string, unknown> => {
  const query = "query" in error && "params" in error && typeof error.query === "string" ? error.query : null;
  if (query === null) {
    return { name: error.name, message: redact(error.message), stack: error.stack && redact(error.stack) };
  }
  // The stack begins with the message, parameters and all; keep only the frames after it.
  const frames = error.stack?.includes(error.message)
    ? error.stack.slice(error.stack.indexOf(error.message) + error.message.length)
    : "";
  const message = `Failed query: ${query}`;
  const cause = error.cause instanceof Error ? error.cause : null;
  return {
    name: error.name,
    message,
    stack: `${error.name}: ${message}${frames}`,
    ...(cause
      ? { cause: { name: cause.name, message: redact(cause.message), code: (cause as { code?: unknown }).code } }
      : {}),
  };
};

/**
 * A copy of `value` with sensitive members replaced; strings that carry a URL with credentials lose them.
 * @example
 * redact({ password: "x", nested: { token: "y" } }) // { password: "[redacted]", nested: { token: "[redacted]" } }
 */
export const redact = (value: unknown, depth = 0): unknown => {
  if (depth > 6) return "[deep]";
  if (typeof value === "string") {
    return value.replace(/\/\/[^/@\s]+:[^/@\s]+@/g, "//[redacted]@").replace(QUERY_PARAMS, "$1[redacted]");
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error) return redactError(value);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, SENSITIVE_KEY.test(key) ? REDACTED : redact(inner, depth + 1)]),
    );
  }
  return value;
};

export type Logger = {
  debug: (message: string, fields?: Record<string, unknown>) => void;
  info: (message: string, fields?: Record<string, unknown>) => void;
  warn: (message: string, fields?: Record<string, unknown>) => void;
  error: (message: string, fields?: Record<string, unknown>) => void;
  with: (fields: Record<string, unknown>) => Logger;
};

/**
 * A logger bound to some fields (the request id, usually).
 * @example
 * const log = createLogger({ level: "info", fields: { requestId } });
 * log.info("request", { status: 200 });
 */
export const createLogger = (options: { level: LogLevel; fields?: Record<string, unknown> }): Logger => {
  const base = options.fields ?? {};
  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (order[level] < order[options.level]) return;
    const line = JSON.stringify(redact({ level, message, time: new Date().toISOString(), ...base, ...fields }));
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    debug: (message, fields) => write("debug", message, fields),
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
    with: (fields) => createLogger({ level: options.level, fields: { ...base, ...fields } }),
  };
};
