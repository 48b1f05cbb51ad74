import type { Env } from "../../env.js";
import { createBedrockGuardrail, type Guardrail } from "../guardrails.js";
import { capabilitiesOf, compatModels, MODELS, type ModelEntry } from "../models.js";
import type { LlmProvider, ProviderId } from "../types.js";
import { createBedrockProvider } from "./bedrock.js";
import { createCompatProvider, createGroqProvider, createOpenAiProvider } from "./openai-compatible.js";

/** The settings that enable each provider (all of them must be set); health/ready shows the same list. */
export const providerSettings: Record<ProviderId, readonly (keyof Env)[]> = {
  groq: ["GROQ_API_KEY"],
  bedrock: ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
  openai: ["OPENAI_API_KEY"],
  compat: ["OPENAI_COMPATIBLE_BASE_URL"],
};

/** The configured providers, in routing order, with the models each offers. */
export type ProviderSet = {
  providers: Map<ProviderId, LlmProvider>;
  order: ProviderId[];
  models: ModelEntry[];
  /** The Bedrock guardrail every call's input and output go through, when one is configured. */
  guardrail: Guardrail | null;
};

const build = (env: Env): ProviderSet => {
  const providers = new Map<ProviderId, LlmProvider>();
  if (env.GROQ_API_KEY) {
    providers.set("groq", createGroqProvider({ apiKey: env.GROQ_API_KEY, baseURL: env.GROQ_BASE_URL }));
  }
  if (env.AWS_REGION && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    providers.set(
      "bedrock",
      createBedrockProvider({
        region: env.AWS_REGION,
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        endpoint: env.BEDROCK_ENDPOINT,
      }),
    );
  }
  if (env.OPENAI_API_KEY) {
    providers.set("openai", createOpenAiProvider({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL }));
  }
  if (env.OPENAI_COMPATIBLE_BASE_URL) {
    providers.set(
      "compat",
      createCompatProvider({ baseURL: env.OPENAI_COMPATIBLE_BASE_URL, apiKey: env.OPENAI_COMPATIBLE_API_KEY }),
    );
  }
  const order = env.LLM_PROVIDER_ORDER.filter((id) => providers.has(id));
  const models = [
    ...MODELS,
    ...compatModels(
      env.OPENAI_COMPATIBLE_MODELS,
      env.OPENAI_COMPATIBLE_CONTEXT_WINDOW,
      capabilitiesOf(env.OPENAI_COMPATIBLE_CAPABILITIES),
    ),
  ].filter((model) => providers.has(model.provider));
  const guardrail =
    env.BEDROCK_GUARDRAIL_ID && env.AWS_REGION && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? createBedrockGuardrail({
          region: env.AWS_REGION,
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          endpoint: env.BEDROCK_ENDPOINT,
          guardrailId: env.BEDROCK_GUARDRAIL_ID,
          guardrailVersion: env.BEDROCK_GUARDRAIL_VERSION,
        })
      : null;
  return { providers, order, models, guardrail };
};

// SDK clients are made once per environment object (once per isolate in production), not per request.
const built = new WeakMap<Env, ProviderSet>();

/**
 * The providers whose settings are present. A provider without credentials is left out.
 * @example
 * const { order } = configuredProviders(ctx.env); // ["groq", "openai"]
 */
export const configuredProviders = (env: Env): ProviderSet => {
  let set = built.get(env);
  if (!set) {
    set = build(env);
    built.set(env, set);
  }
  return set;
};
