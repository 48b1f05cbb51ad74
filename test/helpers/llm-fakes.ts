/**
 * Settings that point APE's providers at the local wire fakes, each test in scopes of its own (see
 * fake-control.mjs), plus ways to script the fakes and read what reached them.
 */
import { inject } from "vitest";

type Scripted = Record<string, unknown>;
export type ReceivedByOpenAi = {
  method: string;
  path: string;
  body: { model?: string; stream?: boolean } | null;
  /** Set when the client closed the connection before the answer ended. */
  closedByClient?: boolean;
};
export type ReceivedByBedrock = { path: string; operation: string; modelId: string };

/**
 * A JSON answer every code tool accepts (generate, review, explain and convert each read their fields and
 * ignore the rest). The fake's default JSON answer, `{}`, fits none of them, so a test that calls code tools
 * without caring about the answer scripts this one.
 */
export const anyCodeToolAnswer = {
  code: "print('hello')",
  language: "python",
  from: "python",
  to: "go",
  notes: [],
  summary: "Fine.",
  explanation: "It prints.",
  key_points: [],
  findings: [],
};

const scoped = (base: string) => `${base}/s/${crypto.randomUUID()}`;

/** Fresh scopes of the OpenAI-compatible fake (for Groq, OpenAI and compat) and the Bedrock fake. */
export const llmFakes = () => {
  const groq = scoped(inject("fakeOpenAiUrl"));
  const openai = scoped(inject("fakeOpenAiUrl"));
  const compat = scoped(inject("fakeOpenAiUrl"));
  const bedrock = scoped(inject("fakeBedrockUrl"));
  const script = async (base: string, next: Scripted) => {
    const res = await fetch(`${base}/__fake/next`, { method: "POST", body: JSON.stringify(next) });
    if (res.status !== 204) throw new Error(`scripting ${base} failed: ${res.status}`);
  };
  const received = async <T>(base: string) => (await (await fetch(`${base}/__fake/requests`)).json()) as T[];
  return {
    urls: { groq, openai, compat, bedrock },
    /** All four providers configured, in the default order. */
    env: (overrides: Record<string, string> = {}) => ({
      GROQ_API_KEY: "gsk-test",
      GROQ_BASE_URL: groq,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "AKIDTEST",
      AWS_SECRET_ACCESS_KEY: "secret-test",
      BEDROCK_ENDPOINT: bedrock,
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `${openai}/v1`,
      OPENAI_COMPATIBLE_BASE_URL: `${compat}/v1`,
      OPENAI_COMPATIBLE_MODELS: "llama3.2",
      ...overrides,
    }),
    scriptGroq: (next: Scripted) => script(groq, next),
    scriptOpenAi: (next: Scripted) => script(openai, next),
    scriptBedrock: (next: Scripted) => script(bedrock, next),
    scriptCompat: (next: Scripted) => script(compat, next),
    groqCalls: () => received<ReceivedByOpenAi>(groq),
    openAiCalls: () => received<ReceivedByOpenAi>(openai),
    compatCalls: () => received<ReceivedByOpenAi>(compat),
    bedrockCalls: () => received<ReceivedByBedrock>(bedrock),
  };
};
