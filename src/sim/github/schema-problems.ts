/**
 * The part of JSON Schema (OpenAPI 3.0's dialect) that GitHub's REST description uses to say
 * what a request or an answer holds: types, nullability, enums, required properties, item
 * counts and the combinators.
 */
export interface JsonSchema {
  $ref?: string;
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (Number.isInteger(value)) return "integer";
  return typeof value;
}

const noRefs = (ref: string): JsonSchema => {
  throw new Error(`unresolved ${ref}`);
};

/**
 * Where a value breaks a schema, one line per problem naming its place ("$.labels: string,
 * expected array"): missing required properties, wrong JSON types, values outside an enum,
 * too few or too many items. `resolve` reads a `$ref`.
 */
export function schemaProblems(
  schema: JsonSchema,
  value: unknown,
  at = "$",
  resolve: (ref: string) => JsonSchema = noRefs,
): string[] {
  const check = (s: JsonSchema, v: unknown, where: string) => schemaProblems(s, v, where, resolve);
  if (schema.$ref !== undefined) return check(resolve(schema.$ref), value, at);
  if (value === null) return schema.nullable || schema.type === undefined ? [] : [`${at}: null`];
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches !== undefined) {
    const results = branches.map((b) => check(b, value, at));
    return results.some((r) => r.length === 0)
      ? []
      : [`${at}: matches no branch (${results.flat()[0]})`];
  }
  if (schema.allOf !== undefined) return schema.allOf.flatMap((s) => check(s, value, at));
  const actual = typeOf(value);
  const expected = schema.type;
  if (
    expected !== undefined &&
    expected !== actual &&
    !(expected === "number" && actual === "integer")
  ) {
    return [`${at}: ${actual}, expected ${expected}`];
  }
  if (schema.enum !== undefined && !schema.enum.includes(value))
    return [`${at}: ${String(value)} not in enum`];
  if (actual === "array") {
    const items = value as unknown[];
    if (schema.minItems !== undefined && items.length < schema.minItems)
      return [`${at}: ${items.length} items, at least ${schema.minItems} expected`];
    if (schema.maxItems !== undefined && items.length > schema.maxItems)
      return [`${at}: ${items.length} items, at most ${schema.maxItems} expected`];
    const item = schema.items;
    return item === undefined ? [] : items.flatMap((v, i) => check(item, v, `${at}[${i}]`));
  }
  if (actual !== "object") return [];
  const object = value as Record<string, unknown>;
  const missing = (schema.required ?? [])
    .filter((k) => !(k in object))
    .map((k) => `${at}.${k}: missing`);
  const wrong = Object.entries(schema.properties ?? {})
    .filter(([k]) => k in object)
    .flatMap(([k, s]) => check(s, object[k], `${at}.${k}`));
  return [...missing, ...wrong];
}
