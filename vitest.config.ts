import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Tests run inside workerd (the Workers runtime) with the bindings of wrangler.toml, pointed at the test
 * stack that test/helpers/global-setup.ts starts: a real Postgres (through the WebSocket bridge, as on Neon)
 * and a real Redis (through the Upstash REST bridge).
 */
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ENVIRONMENT: "test",
          LOG_LEVEL: "warn",
          WEB_ORIGINS: "http://localhost:8798",
          ...inject<Record<string, string>>("stackBindings"),
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/helpers/global-setup.ts"],
    include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts", "test/workers/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
