/** The figures `npm run bench -- --json` prints, exactly these keys; null when not measured. */
export interface BenchFigures {
  overhead_p99_ms: number | null;
  github_calls_per_job: number | null;
  ec2_mutating_calls_per_launch: number | null;
  terminate_calls_per_job: number | null;
  describe_pages_per_1000_vms: number | null;
  limit_utilisation: number | null;
  throttle_errors: number | null;
  jobs_lost: number | null;
  start_over_boot_p50_ms: number | null;
  reap_p99_ms: number | null;
  cancel_reap_p99_ms: number | null;
  rss_mb_postgres: number | null;
  rss_mb_pglite: number | null;
  intake_per_s_pglite: number | null;
  intake_per_s_postgres: number | null;
  vms_per_job: number | null;
  assign_p99_ms: number | null;
  queued_to_launch_p99_ms: number | null;
}

export const FIGURE_KEYS = [
  "overhead_p99_ms",
  "github_calls_per_job",
  "ec2_mutating_calls_per_launch",
  "terminate_calls_per_job",
  "describe_pages_per_1000_vms",
  "limit_utilisation",
  "throttle_errors",
  "jobs_lost",
  "start_over_boot_p50_ms",
  "reap_p99_ms",
  "cancel_reap_p99_ms",
  "rss_mb_postgres",
  "rss_mb_pglite",
  "intake_per_s_pglite",
  "intake_per_s_postgres",
  "vms_per_job",
  "assign_p99_ms",
  "queued_to_launch_p99_ms",
] as const satisfies readonly (keyof BenchFigures)[];

type Key = (typeof FIGURE_KEYS)[number];

/**
 * A target: the figure must be below (`<`), at most (`<=`), at least (`>=`) or equal to
 * `value`. A `count` is exact (requests, VMs, jobs): on a loaded machine it comes out the same,
 * so `bench --check` fails when it is missed. Timings and memory depend on the machine and
 * stay advisory.
 */
export interface Target {
  readonly op: "<" | "<=" | ">=" | "=";
  readonly value: number;
  readonly count?: true;
}

// The targets of issue 9 (counts gate CI since issue 16); figures without one are reported as measured.
export const TARGETS: Readonly<Partial<Record<Key, Target>>> = {
  overhead_p99_ms: { op: "<", value: 5 },
  github_calls_per_job: { op: "<=", value: 1.05, count: true },
  ec2_mutating_calls_per_launch: { op: "<=", value: 1.1, count: true },
  terminate_calls_per_job: { op: "<=", value: 0.1, count: true },
  describe_pages_per_1000_vms: { op: "<=", value: 2, count: true },
  limit_utilisation: { op: ">=", value: 0.9 },
  throttle_errors: { op: "=", value: 0, count: true },
  jobs_lost: { op: "=", value: 0, count: true },
  start_over_boot_p50_ms: { op: "<", value: 1000 },
  reap_p99_ms: { op: "<", value: 2000 },
  cancel_reap_p99_ms: { op: "<", value: 5000 },
  rss_mb_postgres: { op: "<", value: 200 },
  vms_per_job: { op: "<=", value: 1, count: true },
};

export type Verdict = "met" | "MISSED" | "n/a";

/** Whether a figure meets its target; "n/a" without a target or a figure. */
export function verdictOf(key: Key, value: number | null): Verdict {
  const target = TARGETS[key];
  if (target === undefined || value === null) return "n/a";
  const ok =
    target.op === "<"
      ? value < target.value
      : target.op === "<="
        ? value <= target.value
        : target.op === ">="
          ? value >= target.value
          : value === target.value;
  return ok ? "met" : "MISSED";
}

/**
 * The count figures that miss their target, as `key value (target op value)` lines; a count
 * that was not measured (null) is missed too, since a gate must not pass on nothing.
 */
export function missedCounts(figures: BenchFigures): string[] {
  return FIGURE_KEYS.flatMap((k) => {
    const target = TARGETS[k];
    if (target?.count !== true) return [];
    const value = figures[k];
    if (value !== null && verdictOf(k, value) === "met") return [];
    return [
      `${k} ${value === null ? "not measured" : value} (target ${target.op} ${target.value})`,
    ];
  });
}

/** The figures as one JSON object, keys in the documented order and nothing else. */
export function benchJson(figures: BenchFigures): string {
  return JSON.stringify(Object.fromEntries(FIGURE_KEYS.map((k) => [k, figures[k] ?? null])));
}

/** The figures as a table with each target and whether it is met; `notes` follow it. */
export function benchTable(figures: BenchFigures, notes: readonly string[] = []): string {
  const rows = FIGURE_KEYS.map((k) => {
    const target = TARGETS[k];
    const value = figures[k];
    return [
      k,
      value === null ? "null" : String(value),
      target === undefined ? "-" : `${target.op} ${target.value}`,
      verdictOf(k, value),
    ];
  });
  const header = ["figure", "value", "target", "verdict"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  const missed = rows.filter((r) => r[3] === "MISSED").length;
  const met = rows.filter((r) => r[3] === "met").length;
  return [
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
    `targets met: ${met}, missed: ${missed}`,
    ...notes.map((n) => `- ${n}`),
  ].join("\n");
}
