import { zodToOpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { z } from "@hono/zod-openapi";

type JsonObject = Record<string, unknown>;

// Lives as long as the isolate: a tool's schemas never change, so each is converted once.
const converted = new WeakMap<z.ZodType, { input?: JsonObject; output?: JsonObject }>();

/**
 * A zod schema as the JSON Schema (2020-12) an MCP client reads: what it accepts (`input`: defaults make a field
 * optional) or what it is sent (`output`: every field there, nothing else). The `.openapi()` descriptions and
 * examples that document the REST API document the tools too (`example` becomes `examples`), so one schema
 * serves both.
 * @example
 * const inputSchema = toolJsonSchema(SearchInputSchema, "input");
 */
export const toolJsonSchema = (schema: z.ZodType, io: "input" | "output"): JsonObject => {
  const entry = converted.get(schema) ?? {};
  const cached = entry[io];
  if (cached) return cached;
  const json = z.toJSONSchema(schema, {
    io,
    target: "draft-2020-12",
    metadata: zodToOpenAPIRegistry,
    override: ({ jsonSchema }) => {
      const node = jsonSchema as JsonObject;
      // Only the OpenAPI generator reads these.
      delete node._internal;
      delete node.param;
      if ("example" in node) {
        if (node.example !== undefined && !("examples" in node)) node.examples = [node.example];
        delete node.example;
      }
    },
  }) as JsonObject;
  entry[io] = json;
  converted.set(schema, entry);
  return json;
};
