import type { ProviderId } from "./types.js";

export type ModelTier = "fast" | "quality";

/**
 * What a model can take beyond text: tool calls, image parts, and `json_schema` structured outputs.
 * `webImages`: it takes an image given by web URL (`https:`), not only as a `data:` URL (Bedrock's Converse
 * takes bytes only, and APE does not fetch the image behind the caller's back).
 */
export type ModelCapabilities = { tools: boolean; vision: boolean; jsonSchema: boolean; webImages: boolean };

export const capabilityNames = ["tools", "vision", "json_schema"] as const;
export type CapabilityName = (typeof capabilityNames)[number];

/** `["tools", "json_schema"]` (the names `OPENAI_COMPATIBLE_CAPABILITIES` and GET /openai/models use) as flags. */
export const capabilitiesOf = (names: readonly CapabilityName[]): ModelCapabilities => ({
  tools: names.includes("tools"),
  vision: names.includes("vision"),
  jsonSchema: names.includes("json_schema"),
  // A compat server that sees takes image URLs as OpenAI does; if its model cannot, the server says so itself.
  webImages: names.includes("vision"),
});

/** The flags as names, for GET /openai/models. */
export const capabilityList = (capabilities: ModelCapabilities): CapabilityName[] =>
  capabilityNames.filter((name) => capabilities[name === "json_schema" ? "jsonSchema" : name]);

/** A model APE may route to, with what it costs. Prices are US dollars per million tokens. */
export type ModelEntry = {
  id: string;
  provider: ProviderId;
  tier: ModelTier;
  /** The model `auto` and a bare provider name use for this provider. */
  isDefault: boolean;
  contextWindow: number;
  capabilities: ModelCapabilities;
  maxOutputTokens: number;
  priceInPerMillion: number;
  priceOutPerMillion: number;
  /**
   * The price of input tokens served from the provider's prompt cache, where it bills them apart (OpenAI does,
   * at half price for these models); without it cached input costs what other input does.
   */
  priceCachedInPerMillion?: number;
  /** When the prices were read from the provider's public price page. */
  pricesReadOn: string;
};

/**
 * Every hosted model APE knows, with what each can take (Groq serves `json_schema` only on models these are
 * not; Bedrock's Claude models take a schema as a forced tool, see providers/bedrock.ts). Costs in usage records come from here, so a price change is a one-line change
 * in this file. Models of an OpenAI-compatible server (`compat`) come from `OPENAI_COMPATIBLE_MODELS` and cost
 * nothing (they run on your hardware).
 */
export const MODELS: readonly ModelEntry[] = [
  {
    id: "llama-3.1-8b-instant",
    provider: "groq",
    tier: "fast",
    isDefault: false,
    contextWindow: 131_072,
    capabilities: { tools: true, vision: false, jsonSchema: false, webImages: false },
    maxOutputTokens: 8_192,
    priceInPerMillion: 0.05,
    priceOutPerMillion: 0.08,
    pricesReadOn: "2025-06-01",
  },
  {
    id: "llama-3.3-70b-versatile",
    provider: "groq",
    tier: "quality",
    isDefault: true,
    contextWindow: 131_072,
    capabilities: { tools: true, vision: false, jsonSchema: false, webImages: false },
    maxOutputTokens: 32_768,
    priceInPerMillion: 0.59,
    priceOutPerMillion: 0.79,
    pricesReadOn: "2025-06-01",
  },
  {
    id: "anthropic.claude-3-haiku-20240307-v1:0",
    provider: "bedrock",
    tier: "fast",
    isDefault: true,
    contextWindow: 200_000,
    capabilities: { tools: true, vision: true, jsonSchema: true, webImages: false },
    maxOutputTokens: 4_096,
    priceInPerMillion: 0.25,
    priceOutPerMillion: 1.25,
    pricesReadOn: "2025-06-01",
  },
  {
    id: "anthropic.claude-3-5-sonnet-20240620-v1:0",
    provider: "bedrock",
    tier: "quality",
    isDefault: false,
    contextWindow: 200_000,
    capabilities: { tools: true, vision: true, jsonSchema: true, webImages: false },
    maxOutputTokens: 8_192,
    priceInPerMillion: 3,
    priceOutPerMillion: 15,
    pricesReadOn: "2025-06-01",
  },
  {
    id: "gpt-4o-mini",
    provider: "openai",
    tier: "fast",
    isDefault: true,
    contextWindow: 128_000,
    capabilities: { tools: true, vision: true, jsonSchema: true, webImages: true },
    maxOutputTokens: 16_384,
    priceInPerMillion: 0.15,
    priceCachedInPerMillion: 0.075,
    priceOutPerMillion: 0.6,
    pricesReadOn: "2025-06-01",
  },
  {
    id: "gpt-4o",
    provider: "openai",
    tier: "quality",
    isDefault: false,
    contextWindow: 128_000,
    capabilities: { tools: true, vision: true, jsonSchema: true, webImages: true },
    maxOutputTokens: 16_384,
    priceInPerMillion: 2.5,
    priceCachedInPerMillion: 1.25,
    priceOutPerMillion: 10,
    pricesReadOn: "2025-06-01",
  },
];

/**
 * The entries for the models an OpenAI-compatible server offers: free, the first is the default, each with
 * the context window and capabilities the server was configured with (`OPENAI_COMPATIBLE_CONTEXT_WINDOW`,
 * `OPENAI_COMPATIBLE_CAPABILITIES`).
 */
export const compatModels = (
  ids: string[],
  contextWindow = 8_192,
  capabilities: ModelCapabilities = { tools: true, vision: true, jsonSchema: true, webImages: true },
): ModelEntry[] =>
  ids.map((id, index) => ({
    id,
    provider: "compat",
    tier: "quality",
    isDefault: index === 0,
    contextWindow,
    capabilities,
    maxOutputTokens: Math.min(4_096, Math.floor(contextWindow / 4)),
    priceInPerMillion: 0,
    priceOutPerMillion: 0,
    pricesReadOn: "n/a",
  }));

/**
 * What a call cost in US dollars. Cached input tokens are part of the input tokens (as OpenAI counts them) and
 * cost `priceCachedInPerMillion` where the model has one.
 * @example
 * costOf(gpt4oMini, { inputTokens: 1_000, cachedInputTokens: 400, outputTokens: 100 }); // 0.00018
 */
export const costOf = (
  model: ModelEntry,
  usage: { inputTokens: number; outputTokens: number; cachedInputTokens?: number | undefined },
) => {
  const cached =
    model.priceCachedInPerMillion === undefined ? 0 : Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const cachedPrice = model.priceCachedInPerMillion ?? model.priceInPerMillion;
  return (
    ((usage.inputTokens - cached) * model.priceInPerMillion +
      cached * cachedPrice +
      usage.outputTokens * model.priceOutPerMillion) /
    1_000_000
  );
};

/**
 * Tokens estimated at four characters each: for budgeting a context window, and for usage when a provider
 * sent no counts (a stream cut short). The same rule for every provider; exact counts come back in usage.
 */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);
