// A value that fits a JSON Schema, made from the schema alone: what the wire fakes answer when a request
// carries one (a `json_schema` response format, a tool's parameters, a Bedrock `outputConfig` or `toolSpec`),
// so a caller that describes its answer only in prose gets `{}` and one that sends its schema gets a fit.
// Covers what zod's `toJSONSchema` and hand-written tool schemas use: type (or a list of types), properties,
// items, enum, const, anyOf/oneOf/allOf, min/max lengths, items and numbers, and `format: uri`.

/**
 * @param {unknown} schema
 * @param {number} [depth]
 * @returns {unknown}
 */
export const instanceOf = (schema, depth = 0) => {
  if (!schema || typeof schema !== "object" || depth > 12) return null;
  const s = /** @type {Record<string, any>} */ (schema);
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if ("default" in s) return s.default;
  const alternatives = s.anyOf ?? s.oneOf;
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    const concrete = alternatives.find((option) => option?.type !== "null") ?? alternatives[0];
    return instanceOf(concrete, depth + 1);
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) {
    return Object.assign({}, ...s.allOf.map((part) => instanceOf(part, depth + 1)));
  }
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== "null") ?? s.type[0]) : s.type;
  switch (type ?? (s.properties ? "object" : undefined)) {
    case "object": {
      /** @type {Record<string, unknown>} */
      const value = {};
      for (const [name, property] of Object.entries(s.properties ?? {})) value[name] = instanceOf(property, depth + 1);
      return value;
    }
    case "array": {
      const count = Math.max(1, s.minItems ?? 1);
      return Array.from({ length: Math.min(count, s.maxItems ?? count) }, () => instanceOf(s.items ?? {}, depth + 1));
    }
    case "string": {
      if (s.format === "uri" || s.format === "url") return "https://example.com/";
      const min = s.minLength ?? 0;
      const text = "sample answer".padEnd(min, "x");
      return s.maxLength !== undefined ? text.slice(0, s.maxLength) : text;
    }
    case "integer":
    case "number": {
      if (typeof s.minimum === "number") return s.minimum;
      if (typeof s.exclusiveMinimum === "number") return s.exclusiveMinimum + 1;
      return typeof s.maximum === "number" ? Math.min(1, s.maximum) : 1;
    }
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return {};
  }
};
