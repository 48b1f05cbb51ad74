import { configuredProviders } from "../../llm/providers/index.js";
import type { ServiceContext } from "../context.js";

/** What `model` may be on the caller's side: APE's aliases, each configured provider, and each model. */
export const listModels = ({ ctx }: { ctx: ServiceContext }) => {
  const { order, models } = configuredProviders(ctx.env);
  if (order.length === 0) return [];
  return [
    ...["auto", "fast", "quality", ...order].map((id) => ({ id, owned_by: "ape" })),
    ...models.map((model) => ({ id: `${model.provider}/${model.id}`, owned_by: model.provider })),
  ];
};
