import { type CapabilityName, capabilityList } from "../../llm/models.js";
import { configuredProviders } from "../../llm/providers/index.js";
import type { ServiceContext } from "../context.js";

/** One thing `model` may be: an alias (owned by `ape`), or a model with what it can take. */
export type ListedModel = {
  id: string;
  owned_by: string;
  capabilities?: CapabilityName[];
  context_window?: number;
};

/** What `model` may be on the caller's side: APE's aliases, each configured provider, and each model. */
export const listModels = ({ ctx }: { ctx: ServiceContext }): ListedModel[] => {
  const { order, models } = configuredProviders(ctx.env);
  if (order.length === 0) return [];
  return [
    ...["auto", "fast", "quality", ...order].map((id) => ({ id, owned_by: "ape" })),
    ...models.map((model) => ({
      id: `${model.provider}/${model.id}`,
      owned_by: model.provider,
      capabilities: capabilityList(model.capabilities),
      context_window: model.contextWindow,
    })),
  ];
};
