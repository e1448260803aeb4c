import { z } from "zod";

const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses "90s", "10m", "6h", "2d" (or a bare number of seconds) into seconds. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) && text > 0 ? text : undefined;
  const match = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * (units[match[2] as string] as number);
  return seconds > 0 ? seconds : undefined;
}

/** A zod field for durations; the parsed value is in seconds. */
export const durationSeconds = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" is not a duration: use a positive number with s, m, h or d (e.g. "10m")`,
    });
    return z.NEVER;
  }
  return seconds;
});
