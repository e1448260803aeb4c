import type { z } from "zod";

// With the u flag a pair is one code point, so only a surrogate without its partner matches.
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Why PostgreSQL cannot keep a string as it is, or undefined if it can. Its text type
 * refuses U+0000 (https://www.postgresql.org/docs/current/datatype-character.html), and a
 * lone UTF-16 surrogate (JSON allows "\ud800") has no UTF-8 form: the drivers send U+FFFD
 * instead, so the stored value would silently differ from what GitHub sent.
 */
export function unstorable(text: string): string | undefined {
  if (text.includes("\u0000")) return "must not contain U+0000";
  if (LONE_SURROGATE.test(text)) return "must not contain a lone UTF-16 surrogate";
  return undefined;
}

/**
 * A zod check for a whole parsed value: every string in it, at any depth, must be storable.
 * Run on a schema's output, it covers exactly the strings the schema keeps (unknown keys are
 * stripped), so a field added later is covered without anyone remembering to.
 */
export function everyStringStorable(value: unknown, ctx: z.core.$RefinementCtx): void {
  const walk = (v: unknown, path: PropertyKey[]) => {
    if (typeof v === "string") {
      const problem = unstorable(v);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, path });
    } else if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) walk(item, [...path, i]);
    } else if (typeof v === "object" && v !== null) {
      for (const [key, item] of Object.entries(v)) walk(item, [...path, key]);
    }
  };
  walk(value, []);
}
