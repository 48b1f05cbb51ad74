import type { CapabilityName, ModelCapabilities } from "./models.js";
import type { LlmRequest } from "./types.js";

/**
 * What a request may need of a model: a capability of GET /openai/models, or `web_images` (an image given by
 * web URL, which only some models that see can take).
 */
export type RequirementName = CapabilityName | "web_images";

/** A capability a request needs, and the request field (as the front door names it) that needs it. */
export type Requirement = { capability: RequirementName; field: string };

const FLAG: Record<RequirementName, keyof ModelCapabilities> = {
  tools: "tools",
  vision: "vision",
  json_schema: "jsonSchema",
  web_images: "webImages",
};

/** A requirement in words, for the refusal that names it: "needs a model that …". */
export const requirementWords: Record<RequirementName, string> = {
  tools: "takes tools",
  vision: "sees images (vision)",
  json_schema: "takes a JSON Schema (json_schema)",
  web_images: "takes images by web URL (Bedrock takes them only as data: URLs)",
};

/**
 * What a request's images need: `vision` at the first image, and `web_images` at the first given by web URL
 * (not `data:`), so the router skips a model that takes image bytes only and goes on to one that fetches.
 */
const imageNeeds = (request: LlmRequest): Requirement[] => {
  const needs: Requirement[] = [];
  for (const [index, message] of request.messages.entries()) {
    if (message.role !== "user" || typeof message.content === "string") continue;
    for (const [part, content] of message.content.entries()) {
      if (content.type !== "image") continue;
      const field = `messages[${index}].content[${part}].image_url`;
      if (needs.length === 0) needs.push({ capability: "vision", field });
      if (!content.url.startsWith("data:")) return [...needs, { capability: "web_images", field }];
    }
  }
  return needs;
};

/**
 * What a request needs of a model beyond text. A `json_schema` answer with `fallback: "json_object"` needs
 * nothing (any model can be asked for JSON with the schema in the prompt); without the fallback it does.
 * @example
 * requirements({ messages, tools: [weather] }); // [{ capability: "tools", field: "tools" }]
 */
export const requirements = (request: LlmRequest): Requirement[] => {
  const needs = imageNeeds(request);
  if (request.tools?.length) needs.push({ capability: "tools", field: "tools" });
  else {
    const index = request.messages.findIndex(
      (message) => message.role === "tool" || (message.role === "assistant" && message.toolCalls?.length),
    );
    if (index >= 0) needs.push({ capability: "tools", field: `messages[${index}]` });
  }
  const format = request.responseFormat;
  if (format?.type === "json_schema" && format.fallback !== "json_object") {
    needs.push({ capability: "json_schema", field: "response_format.json_schema" });
  }
  return needs;
};

/** The first requirement a model cannot meet, or null when it can serve the request. */
export const unmet = (capabilities: ModelCapabilities, needs: Requirement[]): Requirement | null =>
  needs.find((need) => !capabilities[FLAG[need.capability]]) ?? null;

/** The system prompt's paragraph that carries a schema to a model that cannot take one as a parameter. */
const schemaInstruction = (schema: Record<string, unknown>) =>
  `Answer with a single JSON object and nothing else (no prose, no code fences) that fits this JSON Schema:\n${JSON.stringify(schema)}`;

/**
 * The request as one model can take it: a `json_schema` answer it cannot honour becomes `json_object` with the
 * schema in the system prompt (only when the request allows that fallback; otherwise the router never picks
 * such a model). Anything else goes as it is: the provider translates it.
 */
export const fitRequest = (capabilities: ModelCapabilities, request: LlmRequest): LlmRequest => {
  const format = request.responseFormat;
  if (format?.type !== "json_schema" || capabilities.jsonSchema) return request;
  const [first, ...rest] = request.messages;
  // A prompt that already spells the schema out (extraction's does) is not given it twice.
  if (first?.role === "system" && first.content.includes(JSON.stringify(format.schema))) {
    return { ...request, responseFormat: { type: "json_object" } };
  }
  const instruction = schemaInstruction(format.schema);
  const messages =
    first?.role === "system"
      ? [{ role: "system" as const, content: `${first.content}\n\n${instruction}` }, ...rest]
      : [{ role: "system" as const, content: instruction }, ...request.messages];
  return { ...request, messages, responseFormat: { type: "json_object" } };
};
