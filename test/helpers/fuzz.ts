/**
 * Request generators for the API fuzz test, driven by the OpenAPI document itself: every operation gets valid
 * requests (built from the examples every field carries) and invalid ones (mutated, wrong types, garbage).
 */
import fc from "fast-check";

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  example?: unknown;
  default?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
};

export type Operation = {
  method: string;
  path: string;
  parameters: { name: string; in: string; required?: boolean; schema?: JsonSchema }[];
  body?: { contentType: string; schema: JsonSchema };
  statuses: string[];
};

type Document = {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components?: { schemas?: Record<string, JsonSchema> };
};

/** Every operation of the document with what the fuzzer needs of it. */
export const operationsOf = (doc: Document, basePath: string): Operation[] =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => {
      const content = (op.requestBody as { content?: Record<string, { schema: JsonSchema }> } | undefined)?.content;
      const [contentType, media] = Object.entries(content ?? {})[0] ?? [];
      return {
        method: method.toUpperCase(),
        path: `${basePath}${path}`,
        parameters: (op.parameters as Operation["parameters"] | undefined) ?? [],
        ...(contentType && media ? { body: { contentType, schema: media.schema } } : {}),
        statuses: Object.keys((op.responses as Record<string, unknown>) ?? {}),
      };
    }),
  );

/** A value that satisfies `schema`, from the examples the document carries. */
export const exampleOf = (doc: Document, schema: JsonSchema, depth = 0): unknown => {
  if (depth > 8) return null;
  if (schema.$ref) {
    const name = schema.$ref.split("/").pop() ?? "";
    return exampleOf(doc, doc.components?.schemas?.[name] ?? {}, depth + 1);
  }
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum?.length) return schema.enum[0];
  const variant = schema.allOf?.[0] ?? schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (variant) return exampleOf(doc, variant, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object":
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([key, child]) => [key, exampleOf(doc, child, depth + 1)]),
      );
    case "array":
      return schema.items ? [exampleOf(doc, schema.items, depth + 1)] : [];
    case "integer":
    case "number":
      return 1;
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return "example";
  }
};

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom("", "../../etc/passwd", "%00", "' or 1=1 --", "null", "-1", "1e999", "x".repeat(5000), "<script>"),
  fc.uuid(),
);

/** A path with each `{param}` filled by a generated value. */
export const pathArbitrary = (op: Operation) => {
  const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "");
  return fc
    .tuple(...names.map(() => nasty))
    .map((values) =>
      names.reduce((path, name, i) => path.replace(`{${name}}`, encodeURIComponent(values[i] ?? "")), op.path),
    );
};

/** A query string: examples, random values, or junk keys. */
export const queryArbitrary = (doc: Document, op: Operation) => {
  const query = op.parameters.filter((p) => p.in === "query");
  return fc
    .tuple(
      ...query.map((p) =>
        fc.option(fc.oneof(fc.constant(String(exampleOf(doc, p.schema ?? {}))), nasty), { nil: undefined }),
      ),
      fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string()), { nil: undefined }),
    )
    .map((values) => {
      const params = new URLSearchParams();
      query.forEach((p, i) => {
        const value = values[i] as string | undefined;
        if (value !== undefined) params.set(p.name, value);
      });
      for (const [key, value] of Object.entries((values[query.length] as Record<string, string>) ?? {})) {
        params.append(key, value);
      }
      const text = params.toString();
      return text ? `?${text}` : "";
    });
};

/** A body: the valid example, a mutation of it, an arbitrary JSON value, or text that is not JSON. */
export const bodyArbitrary = (doc: Document, op: Operation) => {
  const valid = op.body ? exampleOf(doc, op.body.schema) : {};
  const mutated = fc.tuple(fc.anything(), fc.nat()).map(([replacement, index]): unknown => {
    if (!valid || typeof valid !== "object" || Array.isArray(valid)) return replacement;
    const keys = Object.keys(valid);
    if (keys.length === 0) return { extra: replacement };
    const copy: Record<string, unknown> = { ...(valid as Record<string, unknown>) };
    const key = keys[index % keys.length] as string;
    if (index % 2 === 0) delete copy[key];
    else copy[key] = replacement;
    return copy;
  });
  return fc.oneof(
    fc.constant({ contentType: "application/json", text: JSON.stringify(valid) }),
    mutated.map((value) => ({ contentType: "application/json", text: JSON.stringify(value) ?? "null" })),
    fc.jsonValue().map((value) => ({ contentType: "application/json", text: JSON.stringify(value) })),
    fc.string().map((text) => ({ contentType: "application/json", text })),
    fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "application/xml").map((contentType) => ({
      contentType,
      text: "a=1&b=2",
    })),
  );
};
