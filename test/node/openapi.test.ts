import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { openApiInfo } from "../../src/routes/v1/docs/openapi.js";

// The same document /api/v1/openapi.json serves (that route calls this very function), checked in Node
// because the validator compiles JSON schemas to code, which workerd does not allow.
const document = buildApp().api.getOpenAPI31Document(openApiInfo);

type SchemaNode = {
  type?: string | string[];
  description?: string;
  example?: unknown;
  examples?: unknown[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  $ref?: string;
  allOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
};

/** Every property of every schema, as `Schema.path`, with its node. */
const properties = (name: string, node: SchemaNode, out: [string, SchemaNode][] = []) => {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    out.push([`${name}.${key}`, child]);
    properties(`${name}.${key}`, child, out);
  }
  if (node.items) properties(`${name}[]`, node.items, out);
  for (const part of [...(node.allOf ?? []), ...(node.anyOf ?? []), ...(node.oneOf ?? [])]) properties(name, part, out);
  return out;
};

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const result = await new Validator().validate(JSON.parse(JSON.stringify(document)));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe("3.1.0");
  });

  it("names every schema and describes every field with an example", () => {
    const schemas = (document.components?.schemas ?? {}) as Record<string, SchemaNode>;
    expect(Object.keys(schemas).length).toBeGreaterThan(0);
    const missing = Object.entries(schemas)
      .flatMap(([name, schema]) => properties(name, schema))
      .filter(([, node]) => !node.$ref)
      .filter(([, node]) => !node.description || (node.example === undefined && node.examples === undefined))
      .map(([path]) => path);
    expect(missing).toEqual([]);
  });

  it("lists and describes every tag an operation uses, so the docs group every module", () => {
    const declared = new Map((document.tags ?? []).map((tag) => [tag.name, tag.description]));
    const used = new Set(
      Object.values(document.paths ?? {}).flatMap((item) =>
        Object.values(item as Record<string, { tags?: string[] }>).flatMap((operation) => operation.tags ?? []),
      ),
    );
    expect(used).toContain("mcp");
    expect([...used].filter((tag) => !declared.get(tag))).toEqual([]);
  });

  it("gives every operation a summary and a description", () => {
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const [method, operation] of Object.entries(item as Record<string, Record<string, unknown>>)) {
        expect(operation.summary, `${method} ${path}`).toEqual(expect.any(String));
        expect(operation.description, `${method} ${path}`).toEqual(expect.any(String));
      }
    }
  });
});
