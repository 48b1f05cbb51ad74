import { DrizzleQueryError } from "drizzle-orm/errors";
import { describe, expect, it, vi } from "vitest";
import { createLogger, redact } from "../../src/lib/log.js";

describe("structured logs", () => {
  it("redacts secrets however deep they sit, and credentials inside URLs", () => {
    const out = redact({
      password: "hunter2",
      nested: { refresh_token: "rt_abc", apiKey: "ape_x", authorization: "Bearer y", cookie: "sid=1", fine: "visible" },
      list: [{ secret: "s" }],
      url: "postgres://ape:pw@db.example.com/ape",
    });
    const text = JSON.stringify(out);
    for (const secret of ["hunter2", "rt_abc", "ape_x", "Bearer y", "sid=1", '"s"', "ape:pw"])
      expect(text).not.toContain(secret);
    expect(text).toContain("visible");
    expect(text).toContain("db.example.com");
  });

  it("writes one JSON line with level, message, time and the bound request id", () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
    try {
      createLogger({ level: "info", fields: { requestId: "req_1" } }).info("hello", { token: "t", n: 1 });
      createLogger({ level: "warn" }).info("dropped below the level");
    } finally {
      spy.mockRestore();
    }
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      level: "info",
      message: "hello",
      requestId: "req_1",
      token: "[redacted]",
      n: 1,
    });
  });

  it("logs a failed query's SQL and its cause, never the values bound to it", () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: string) => void lines.push(line));
    try {
      const cause = Object.assign(new Error('database "x" does not exist'), { code: "3D000" });
      const error = new DrizzleQueryError(
        'insert into "users" ("email", "password_hash") values ($1, $2)',
        ["ada@example.com", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA\nsecond line"],
        cause,
      );
      createLogger({ level: "info" }).error("unhandled error", { error, asText: String(error) });
    } finally {
      spy.mockRestore();
    }
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? "";
    for (const value of ["ada@example.com", "argon2id", "second line"]) expect(line).not.toContain(value);
    const logged = JSON.parse(line) as { error: { message: string; stack: string; cause: { code: string } } };
    expect(logged.error.message).toBe('Failed query: insert into "users" ("email", "password_hash") values ($1, $2)');
    expect(logged.error.stack).toContain("log.test.ts");
    expect(logged.error.cause).toMatchObject({ code: "3D000", message: 'database "x" does not exist' });
  });
});
