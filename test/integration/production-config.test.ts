import { beforeAll, describe, expect, inject, it } from "vitest";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";
import { productionEnv } from "../helpers/production-env.js";

// A deployment that cannot start unsafe: with ENVIRONMENT=production, settings meant for a laptop make APE
// refuse every request, naming each setting, instead of serving with them.

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});

const health = (env: Record<string, unknown>) => h.request("/api/v1/health", {}, env);
const production = (overrides: Record<string, unknown> = {}) => productionEnv(inject("fakeSesUrl"), overrides);

describe("ENVIRONMENT=production", () => {
  it("serves with safe settings", async () => {
    expect((await health(production())).status).toBe(200);
  });

  it("refuses to serve with the development settings, naming each one that is unsafe", async () => {
    // What a laptop runs with: the outbox, http origins on loopback, allow-listed hosts, no webhook key.
    const problem = await readProblem(
      await health({
        ENVIRONMENT: "production",
        WEB_ORIGINS: "http://localhost:8788,http://127.0.0.1:8788",
        FETCH_ALLOW_HOSTS: "127.0.0.1:8080",
        WEBHOOK_SECRETS_KEY: "",
      }),
    );
    expect(problem.status).toBe(503);
    expect(problem.body.code).toBe("CONFIG_INVALID");
    for (const setting of ["EMAIL_PROVIDER", "WEB_ORIGINS", "FETCH_ALLOW_HOSTS", "WEBHOOK_SECRETS_KEY"]) {
      expect(problem.body.detail, setting).toContain(setting);
    }
  });

  it("names the one unsafe setting among safe ones", async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ["EMAIL_PROVIDER", { EMAIL_PROVIDER: "outbox" }],
      ["WEB_ORIGINS", { WEB_ORIGINS: "http://app.example.com" }],
      ["WEB_ORIGINS", { WEB_ORIGINS: "https://app.example.com,https://localhost:8788" }],
      ["WEB_ORIGINS", { WEB_ORIGINS: "https://127.0.0.1" }],
      ["FETCH_ALLOW_HOSTS", { FETCH_ALLOW_HOSTS: "internal.example.com:443" }],
      ["WEBHOOK_SECRETS_KEY", { WEBHOOK_SECRETS_KEY: "" }],
      ["WEBHOOK_SECRETS_KEY", { WEBHOOK_SECRETS_KEY: "too-short" }],
      ["JWT_SECRET", { JWT_SECRET: "short" }],
    ];
    for (const [setting, overrides] of cases) {
      const problem = await readProblem(await health(production(overrides)));
      expect(problem.status, JSON.stringify(overrides)).toBe(503);
      expect(problem.body.code).toBe("CONFIG_INVALID");
      expect(problem.body.detail).toContain(setting);
      const named = ["EMAIL_PROVIDER", "WEB_ORIGINS", "FETCH_ALLOW_HOSTS", "WEBHOOK_SECRETS_KEY", "JWT_SECRET"];
      for (const other of named.filter((name) => name !== setting)) {
        expect(problem.body.detail, `${setting} alone`).not.toContain(other);
      }
    }
  });

  it("never says a secret's value in the answer", async () => {
    const problem = await readProblem(await health(production({ JWT_SECRET: "short-secret" })));
    expect(JSON.stringify(problem.body)).not.toContain("short-secret");
  });
});
