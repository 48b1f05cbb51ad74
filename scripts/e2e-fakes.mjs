// The wire fakes the browser tests' API talks to, and the settings that point `wrangler dev` at them. Each
// screen's journey scripts its own scope, so test files running side by side never eat each other's answers:
//   chat      → OpenAI (a fake that streams slowly, so a reload can land mid-answer; also embeddings)
//   research  → Groq (the router's first choice for `auto`) and Firecrawl (search and scrape)
//   code      → the OpenAI-compatible provider (`compat`)
// plus a webhook receiver on loopback (allowed by FETCH_ALLOW_HOSTS).
import { createServer } from "node:http";
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
