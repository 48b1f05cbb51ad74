import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { knownSettings } from "./scripts/dev-vars.mjs";

// wrangler's config loader also reads a developer's .dev.vars; blank every known setting first so a key set
// there for `npm start` (an LLM key, say) never changes what the tests see.
const blankSettings = Object.fromEntries(knownSettings().map((name: string) => [name, ""]));

/**
 * Two projects:
 * - `workers`: tests inside workerd (the Workers runtime) with wrangler.toml's bindings, pointed at the test
 *   stack that test/helpers/global-setup.ts starts: a real Postgres (through the WebSocket bridge, as on Neon)
 *   and a real Redis (through the Upstash REST bridge).
 * - `node`: what cannot run inside workerd (a JSON-schema validator compiles code at run time, which Workers
 *   forbid).
 * - `e2e`: the browser tests, which drive Chromium against `wrangler dev` and the web UI (scripts/test.mjs
 *   starts them and sets APE_E2E_URL and APE_E2E_WEB_URL; without them the browser tests are skipped).
 */
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ...blankSettings,
                ENVIRONMENT: "test",
                LOG_LEVEL: "warn",
                // Usage rows written at once, so tests can read them after each call (production batches).
                USAGE_FLUSH_BATCH: "1",
                WEB_ORIGINS: "http://localhost:8798",
                ...inject<Record<string, string>>("stackBindings"),
              },
            },
          })),
        ],
        test: {
          name: "workers",
          // The module cache hands a cached module to workerd as one WebSocket message, and workerd refuses
          // messages over 1 MiB (close code 1009), which takes the whole runtime down: pdf.js, SheetJS and
          // pdf-lib are larger than that once transformed. Transformed afresh, they arrive another way.
          fsModuleCache: false,
          globalSetup: ["./test/helpers/global-setup.ts"],
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts", "test/workers/**/*.test.ts"],
          testTimeout: 20_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/node/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The browser journeys: `npm test` runs them after the other projects, one file at a time, so Chromium
        // and the workerd tests do not fight over the cores.
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // A journey waits on what a person would wait for (a screen's data, a file read), through wrangler dev
          // on a shared machine: a second, vitest's default, is less than one round of a loaded local stack.
          expect: { poll: { timeout: 10_000 } },
        },
      },
    ],
  },
});
