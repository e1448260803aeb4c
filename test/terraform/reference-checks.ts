import { type Body, blocks, singles, type Terraform } from "./hcl.js";

/**
 * Every `var.x`, `local.x`, `data.t.n` and `aws_t.n` the module uses is declared in it: the
 * nearest thing to `terraform validate` without downloading providers.
 */
export function undeclaredReferences(tf: Terraform): string[] {
  const declared = new Set<string>([
    ...singles(tf, "variable").map((v) => `var.${v.name}`),
    ...tf.files.flatMap(({ json }) =>
      blocks(json, "locals").flatMap((l) => Object.keys(l).map((k) => `local.${k}`)),
    ),
    ...labelled(tf, "resource").map((r) => r),
    ...labelled(tf, "data").map((d) => `data.${d}`),
  ]);
  const used = new Set<string>();
  const patterns = [
    /\b(?:var|local)\.\w+/g,
    /\bdata\.\w+\.\w+/g,
    /(?<![\w.])(?:aws|random)_\w+\.\w+/g,
  ];
  for (const { json } of tf.files) {
    const text = JSON.stringify(json).replace(/\\"/g, '"');
    for (const pattern of patterns) for (const m of text.matchAll(pattern)) used.add(m[0]);
  }
  return [...used].filter((name) => !declared.has(name)).sort();
}

function labelled(tf: Terraform, kind: "resource" | "data"): string[] {
  return tf.files.flatMap(({ json }) =>
    Object.entries((json[kind] ?? {}) as Record<string, Record<string, unknown>>).flatMap(
      ([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`),
    ),
  );
}

/** Inputs a module block sets that the module does not declare, or required ones it leaves out. */
export function moduleInputProblems(module: Terraform, call: Body): string[] {
  const variables = singles(module, "variable");
  const known = new Set(variables.map((v) => v.name));
  const meta = new Set(["source", "version", "providers", "count", "for_each", "depends_on"]);
  const set = Object.keys(call).filter((k) => !meta.has(k));
  return [
    ...set.filter((k) => !known.has(k)).map((k) => `sets unknown input ${k}`),
    ...variables
      .filter((v) => !("default" in v.body) && !set.includes(v.name))
      .map((v) => `leaves out required input ${v.name}`),
  ];
}
