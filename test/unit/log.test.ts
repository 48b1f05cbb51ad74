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
});
