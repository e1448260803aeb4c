import { createRequire } from "node:module";
import {
  type JsonSchema,
  schemaProblems as problemsOf,
} from "../../src/sim/github/schema-problems.js";

// GitHub's own OpenAPI 3.0 description of the REST API, as published by Octokit.
// https://github.com/github/rest-api-description
type Operation = {
  requestBody?: { content?: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: JsonSchema }> }>;
};
type Spec = {
  paths: Record<string, Record<string, Operation>>;
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

/** Where a value breaks a schema of GitHub's description ($refs resolved in it). */
export function schemaProblems(schema: JsonSchema, value: unknown, at = "$"): string[] {
  return problemsOf(schema, value, at, (ref) => resolve<JsonSchema>(ref));
}

function operation(method: string, path: string): Operation {
  const found = load().paths[path]?.[method.toLowerCase()];
  if (found === undefined) throw new Error(`no operation ${method} ${path}`);
  return found;
}

/** The JSON schema GitHub documents for an answer of `method path` with `status`. */
export function responseSchema(method: string, path: string, status: number): JsonSchema {
  let response = operation(method, path).responses[String(status)];
  if (response?.$ref !== undefined) response = resolve(response.$ref);
  const schema = response?.content?.["application/json"]?.schema;
  if (schema === undefined) throw new Error(`no ${status} JSON schema for ${method} ${path}`);
  return schema;
}

/** The JSON schema GitHub documents for the body of `method path`, if it takes one. */
export function requestSchema(method: string, path: string): JsonSchema | undefined {
  return operation(method, path).requestBody?.content?.["application/json"]?.schema;
}

/** Whether GitHub's description has the operation `method path`. */
export function hasOperation(method: string, path: string): boolean {
  return load().paths[path]?.[method.toLowerCase()] !== undefined;
}

/** A named schema of GitHub's description, e.g. "basic-error". */
export function componentSchema(name: string): JsonSchema {
  return resolve<JsonSchema>(`#/components/schemas/${name}`);
}

const VALIDATION_KEYWORDS = [
  "type",
  "nullable",
  "enum",
  "required",
  "properties",
  "items",
  "minItems",
  "maxItems",
  "anyOf",
  "oneOf",
  "allOf",
] as const;

/** A schema with its $refs followed and only the keywords the sim checks (JsonSchema) kept. */
export function validationKeywords(schema: JsonSchema): JsonSchema {
  if (schema.$ref !== undefined) return validationKeywords(resolve<JsonSchema>(schema.$ref));
  const kept: Record<string, unknown> = {};
  for (const key of VALIDATION_KEYWORDS) {
    const value = schema[key];
    if (value === undefined) continue;
    if (key === "properties")
      kept[key] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, s]) => [
          k,
          validationKeywords(s),
        ]),
      );
    else if (key === "items") kept[key] = validationKeywords(value as JsonSchema);
    else if (key === "anyOf" || key === "oneOf" || key === "allOf")
      kept[key] = (value as JsonSchema[]).map(validationKeywords);
    else kept[key] = value;
  }
  return kept as JsonSchema;
}
