// The wire fakes the browser tests' API talks to, and the settings that point `wrangler dev` at them. Each
// screen's journey scripts its own scope, so test files running side by side never eat each other's answers:
//   chat      → OpenAI (a fake that streams slowly, so a reload can land mid-answer; also embeddings)
//   research  → Groq (the router's first choice for `auto`) and Firecrawl (search and scrape)
//   code      → the OpenAI-compatible provider (`compat`)
// plus a webhook receiver on loopback (allowed by FETCH_ALLOW_HOSTS).
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startFakeFirecrawl } from "../test/helpers/fake-firecrawl.mjs";
import { startFakeOpenAi } from "../test/helpers/fake-openai.mjs";

export const startE2eFakes = async () => {
  const slow = await startFakeOpenAi({ chunkDelayMs: 120 });
  const fast = await startFakeOpenAi();
  const firecrawl = await startFakeFirecrawl();
  const hooks = createServer((request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(204).end());
  });
  await new Promise((resolve) => hooks.listen(0, "127.0.0.1", () => resolve(undefined)));
  const hookAddress = hooks.address();
  const hookHost = `127.0.0.1:${typeof hookAddress === "object" && hookAddress ? hookAddress.port : 0}`;
  const research = `${fast.url}/s/research`;
  const code = `${fast.url}/s/code`;
  const search = `${firecrawl.url}/s/research`;
  return {
    /** For `wrangler dev`. */
    settings: {
      OPENAI_API_KEY: "sk-e2e",
      OPENAI_BASE_URL: `${slow.url}/v1`,
      GROQ_API_KEY: "gsk-e2e",
      GROQ_BASE_URL: research,
      OPENAI_COMPATIBLE_BASE_URL: `${code}/v1`,
      OPENAI_COMPATIBLE_MODELS: "llama3.2",
      FIRECRAWL_API_KEY: "fc-e2e",
      FIRECRAWL_API_URL: search,
      FETCH_ALLOW_HOSTS: hookHost,
      RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
    },
    /** For the tests: where to script each fake. */
    env: {
      APE_E2E_FAKE_RESEARCH_LLM: research,
      APE_E2E_FAKE_CODE_LLM: code,
      APE_E2E_FAKE_FIRECRAWL: search,
      APE_E2E_HOOK_URL: `http://${hookHost}/hook`,
    },
    close: async () => {
      hooks.close();
      await Promise.all([slow.close(), fast.close(), firecrawl.close()]);
    },
  };
};

/**
 * The same fakes in a process of their own, for a caller that blocks its own event loop while tests run
 * (scripts/test.mjs runs each step with spawnSync, so fakes inside it could not answer). Resolves once the
 * child has printed its settings; `close()` ends it.
 * @returns {Promise<{ settings: Record<string, string>, env: Record<string, string>, close: () => Promise<void> }>}
 */
export const spawnE2eFakes = () =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], { stdio: ["ignore", "pipe", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the e2e fakes exited (${code}) before they were ready`)));
    createInterface({ input: child.stdout }).once("line", (line) => {
      const { settings, env } = JSON.parse(line);
      resolve({
        settings,
        env,
        close: async () => {
          child.removeAllListeners("exit");
          child.kill("SIGTERM");
        },
      });
    });
  });

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const fakes = await startE2eFakes();
  process.stdout.write(`${JSON.stringify({ settings: fakes.settings, env: fakes.env })}\n`);
  const stop = async () => {
    await fakes.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
