import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";

/** A block body as @cdktf/hcl2json gives it: nested blocks are arrays, expressions "${...}". */
export type Body = Record<string, unknown>;

/** Every parsed .tf file of a configuration, with the file it came from. */
export interface Terraform {
  readonly files: readonly { readonly path: string; readonly json: Body }[];
}

/** A resource, data source, variable or output found by type (and name). */
export interface Found {
  readonly path: string;
  readonly name: string;
  readonly body: Body;
}

/** Parses HCL text; `name` only labels errors. */
export async function parseHcl(name: string, text: string): Promise<Terraform> {
  return { files: [{ path: name, json: (await parse(name, text)) as Body }] };
}

/** Parses every .tf file under `dir`, examples included. */
export async function parseTerraformDir(dir: string): Promise<Terraform> {
  const paths = tfFiles(dir);
  const files = await Promise.all(
    paths.map(async (path) => ({
      path,
      json: (await parse(path, readFileSync(path, "utf8"))) as Body,
    })),
  );
  return { files };
}

function tfFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name.startsWith(".") ? [] : tfFiles(path);
    return entry.name.endsWith(".tf") ? [path] : [];
  });
}

/** Nested blocks of a body (always an array; [] when absent). */
export function blocks(body: Body | undefined, name: string): Body[] {
  const value = body?.[name];
  return Array.isArray(value) ? (value as Body[]) : [];
}

/** Static blocks of `name` plus the `content` of `dynamic "name"` blocks. */
export function blocksWithDynamic(body: Body, name: string): Body[] {
  const dynamic = (body.dynamic as Record<string, Body[]> | undefined)?.[name] ?? [];
  return [...blocks(body, name), ...dynamic.flatMap((d) => blocks(d, "content"))];
}

function labelled(tf: Terraform, kind: string, type?: string): Found[] {
  return tf.files.flatMap(({ path, json }) => {
    const byType = (json[kind] ?? {}) as Record<string, Record<string, Body[]>>;
    const groups = type === undefined ? [byType] : [{ [type]: byType[type] ?? {} }];
    return groups.flatMap((group) =>
      Object.values(group).flatMap((byName) =>
        Object.entries(byName).flatMap(([name, bodies]) =>
          bodies.map((body) => ({ path, name, body })),
        ),
      ),
    );
  });
}

/** Resources of a type, e.g. "aws_launch_template". */
export function resources(tf: Terraform, type: string): Found[] {
  return labelled(tf, "resource", type);
}

/** Data sources of a type, e.g. "aws_iam_policy_document". */
export function dataSources(tf: Terraform, type: string): Found[] {
  return labelled(tf, "data", type);
}

/** Variables or outputs (blocks with one label). */
export function singles(tf: Terraform, kind: "variable" | "output"): Found[] {
  return tf.files.flatMap(({ path, json }) =>
    Object.entries((json[kind] ?? {}) as Record<string, Body[]>).flatMap(([name, bodies]) =>
      bodies.map((body) => ({ path, name, body })),
    ),
  );
}

/** The value of `local.<name>` (the first definition found). */
export function local(tf: Terraform, name: string): unknown {
  for (const { json } of tf.files) {
    for (const locals of blocks(json, "locals")) if (name in locals) return locals[name];
  }
  return undefined;
}

/** The body of `variable "<name>"`. */
export function variable(tf: Terraform, name: string): Body | undefined {
  return singles(tf, "variable").find((v) => v.name === name)?.body;
}

/**
 * An expression as text with every `local.x` replaced by the local's own text, recursively,
 * so a check sees what a local stands for (e.g. that an output reaches a password).
 */
export function expand(tf: Terraform, value: unknown, depth = 8): string {
  const text = typeof value === "string" ? value : JSON.stringify(value ?? null);
  if (depth === 0) return text;
  return text.replace(/\blocal\.([A-Za-z_][\w-]*)/g, (whole, name: string) => {
    const found = local(tf, name);
    return found === undefined ? whole : `(${expand(tf, found, depth - 1)})`;
  });
}

/**
 * A literal value, or the default of the variable a bare `${var.x}` names; undefined when
 * neither can be told statically.
 */
export function literalOrDefault(tf: Terraform, value: unknown): unknown {
  const match = typeof value === "string" ? /^\$\{var\.(\w+)\}$/.exec(value) : null;
  if (!match) return value;
  return variable(tf, match[1] as string)?.default;
}

/** Names referenced as `<type>.<name>` in an expression. */
export function referencedNames(value: unknown, type: string): string[] {
  const text = typeof value === "string" ? value : JSON.stringify(value ?? null);
  return [...text.matchAll(new RegExp(`\\b${type}\\.(\\w+)`, "g"))].map((m) => m[1] as string);
}
