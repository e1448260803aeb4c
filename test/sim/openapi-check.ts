import { createRequire } from "node:module";

// GitHub's own OpenAPI 3.0 description of the REST API, as published by Octokit.
// https://github.com/github/rest-api-description
type Schema = {
  $ref?: string;
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};
type Spec = {
  paths: Record<
    string,
    Record<
      string,
      { responses: Record<string, { $ref?: string; content?: Record<string, { schema: Schema }> }> }
    >
  >;
  components: Record<string, Record<string, unknown>>;
};

let spec: Spec | undefined;
function load(): Spec {
  spec ??= createRequire(import.meta.url)("@octokit/openapi/generated/api.github.com.json") as Spec;
  return spec;
}

function resolve<T>(ref: string): T {
  const [, group = "", name = ""] = /^#\/components\/([^/]+)\/(.+)$/.exec(ref) ?? [];
  const found = load().components[group]?.[name];
  if (found === undefined) throw new Error(`unresolved ${ref}`);
  return found as T;
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (Number.isInteger(value)) return "integer";
  return typeof value;
}

/** Where a value breaks a schema: missing required properties, wrong JSON types, bad enums. */
export function schemaProblems(schema: Schema, value: unknown, at = "$"): string[] {
  if (schema.$ref !== undefined) return schemaProblems(resolve<Schema>(schema.$ref), value, at);
  if (value === null) return schema.nullable || schema.type === undefined ? [] : [`${at}: null`];
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches !== undefined) {
    const results = branches.map((b) => schemaProblems(b, value, at));
    return results.some((r) => r.length === 0)
      ? []
      : [`${at}: matches no branch (${results.flat()[0]})`];
  }
  if (schema.allOf !== undefined) return schema.allOf.flatMap((s) => schemaProblems(s, value, at));
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
    return schema.items === undefined
      ? []
      : (value as unknown[]).flatMap((v, i) =>
          schemaProblems(schema.items as Schema, v, `${at}[${i}]`),
        );
  }
  if (actual !== "object") return [];
  const object = value as Record<string, unknown>;
  const missing = (schema.required ?? [])
    .filter((k) => !(k in object))
    .map((k) => `${at}.${k}: missing`);
  const wrong = Object.entries(schema.properties ?? {})
    .filter(([k]) => k in object)
    .flatMap(([k, s]) => schemaProblems(s, object[k], `${at}.${k}`));
  return [...missing, ...wrong];
}

/** The JSON schema GitHub documents for an answer of `method path` with `status`. */
export function responseSchema(method: string, path: string, status: number): Schema {
  const operation = load().paths[path]?.[method.toLowerCase()];
  if (operation === undefined) throw new Error(`no operation ${method} ${path}`);
  let response = operation.responses[String(status)];
  if (response?.$ref !== undefined) response = resolve(response.$ref);
  const schema = response?.content?.["application/json"]?.schema;
  if (schema === undefined) throw new Error(`no ${status} JSON schema for ${method} ${path}`);
  return schema;
}

/** A named schema of GitHub's description, e.g. "basic-error". */
export function componentSchema(name: string): Schema {
  return resolve<Schema>(`#/components/schemas/${name}`);
}
