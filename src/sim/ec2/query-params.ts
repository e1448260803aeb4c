/**
 * Reading EC2 Query API parameters: lists are flattened as `Name.N` (1-based) and
 * structures as `Name.Field`.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html
 */
export type Params = ReadonlyMap<string, string>;

/** The values of `prefix.1`, `prefix.2`, ... in order. */
export function listOf(params: Params, prefix: string): string[] {
  const out: string[] = [];
  for (let n = 1; params.has(`${prefix}.${n}`); n++) out.push(params.get(`${prefix}.${n}`) ?? "");
  return out;
}

/** The fields under `prefix.` as a record (`prefix.A.B=v` gives `{ "A.B": "v" }`). */
export function structOf(params: Params, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) {
    if (key.startsWith(`${prefix}.`)) out[key.slice(prefix.length + 1)] = value;
  }
  return out;
}

/** The structures `prefix.1.*`, `prefix.2.*`, ... in order. */
export function structsOf(params: Params, prefix: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (let n = 1; ; n++) {
    const s = structOf(params, `${prefix}.${n}`);
    if (Object.keys(s).length === 0) return out;
    out.push(s);
  }
}

/** Tags of a `TagSpecification.N` structure: `Tag.M.Key` / `Tag.M.Value`. */
export function tagsOf(spec: Readonly<Record<string, string>>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let m = 1; spec[`Tag.${m}.Key`] !== undefined; m++) {
    tags[spec[`Tag.${m}.Key`] as string] = spec[`Tag.${m}.Value`] ?? "";
  }
  return tags;
}
