import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { repositoryCapOf } from "../core/repository-caps.js";
import { type RepositoryLimits, repositoryShares } from "../core/repository-share.js";
import type { GitHub } from "../github/github.js";
import type { Ledger } from "../ledger/ledger.js";
import type { FleetMetrics } from "./fleet-metrics.js";

/** The fleet's metrics in a prom-client registry, with gauges read from the ledger at each scrape. */
export interface PrometheusMetrics {
  readonly metrics: FleetMetrics;
  readonly registry: Registry;
  /** Counts this GitHub client's requests and rate limits, read at each scrape. */
  watchGitHub(github: GitHubCounts): void;
}

type GitHubCounts = Pick<GitHub, "requestsMade" | "rateLimitsMet">;

// Queue latency spans a warm start (seconds) to a capacity shortage (tens of minutes).
const LATENCY_BUCKETS = [1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 300, 600, 1800];

/**
 * Every replica counts its own launches, calls and repairs; the ledger gauges (jobs, VMs,
 * subnets) are the whole fleet's, the same from every replica: aggregate them with max().
 */
export function prometheusMetrics(
  ledger: Pick<Ledger, "fleetCounts">,
  limits?: RepositoryLimits,
): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // The GitHub client counts its own requests (token mints and retries too): each scrape
  // adds what it counted since the last one.
  let github: GitHubCounts | undefined;
  const seen = { calls: 0, throttles: 0 };
  const fromGitHub = (pick: (g: GitHubCounts) => number, key: keyof typeof seen) =>
    function (this: Counter) {
      if (github === undefined) return;
      const now = pick(github);
      if (now > seen[key]) this.inc({ service: "github" }, now - seen[key]);
      seen[key] = now;
    };
  const counter = (name: string, help: string, labelNames: string[], collect?: () => void) =>
    new Counter({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) });
  const latency = new Histogram({
    name: "mayfly_queue_latency_seconds",
    help: "Time from a job queued to its runner running it (GitHub's timestamps)",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const launches = counter("mayfly_launches_total", "VMs launched, by pool", ["pool"]);
  const failures = counter(
    "mayfly_launch_failures_total",
    "Launches that failed, by pool and reason",
    ["pool", "reason"],
  );
  const calls = counter(
    "mayfly_api_calls_total",
    "HTTP requests to GitHub and EC2, retries included",
    ["service"],
    fromGitHub((g) => g.requestsMade(), "calls"),
  );
  const throttles = counter(
    "mayfly_api_throttles_total",
    "Requests the service throttled",
    ["service"],
    fromGitHub((g) => g.rateLimitsMet(), "throttles"),
  );
  const repairs = counter(
    "mayfly_reconcile_repairs_total",
    "Differences the reconciler repaired, by kind",
    ["kind"],
  );
  const reconcileFailures = counter(
    "mayfly_reconcile_failures_total",
    "Reconcile phases that failed, by phase (the other phases of the pass still ran)",
    ["phase"],
  );
  const gaveUp = counter(
    "mayfly_jobs_given_up_total",
    "Queued jobs mayfly stopped launching, by pool and reason",
    ["pool", "reason"],
  );
  const refusals = counter(
    "mayfly_assignment_refusals_total",
    "Assignment requests refused (403 not ours, 410 already assigned or retired), by reason",
    ["reason"],
  );
  const budget = new Gauge({
    name: "mayfly_rate_budget_remaining",
    help: "Requests the dispatcher may still spend now within the fleet's limits",
    labelNames: ["service"],
    registers: [registry],
  });
  ledgerGauges(registry, ledger, limits);
  const metrics: FleetMetrics = {
    jobStarted: (seconds) => latency.observe(seconds),
    launched: (pool) => launches.inc({ pool }),
    launchFailed: (pool, reason) => failures.inc({ pool, reason }),
    apiCall: (service) => calls.inc({ service }),
    throttled: (service) => throttles.inc({ service }),
    gaveUp: (pool, reason) => gaveUp.inc({ pool, reason }),
    repaired: (kind, count) => {
      if (count > 0) repairs.inc({ kind }, count);
    },
    reconcileFailed: (phase) => reconcileFailures.inc({ phase }),
    budgetLeft: (service, requests) => budget.set({ service }, Math.max(0, requests)),
    assignmentRefused: (reason) => refusals.inc({ reason }),
  };
  return {
    metrics,
    registry,
    watchGitHub: (client) => {
      github = client;
    },
  };
}

function ledgerGauges(
  registry: Registry,
  ledger: Pick<Ledger, "fleetCounts">,
  limits: RepositoryLimits | undefined,
): void {
  // One ledger read serves every gauge of a scrape.
  let pending: ReturnType<Ledger["fleetCounts"]> | undefined;
  const counts = () => {
    pending ??= ledger.fleetCounts().finally(() => {
      setTimeout(() => {
        pending = undefined;
      }, 100);
    });
    return pending;
  };
  new Gauge({
    name: "mayfly_jobs",
    help: "Jobs not completed, by pool and state",
    labelNames: ["pool", "state"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const j of (await counts()).jobs)
        this.set({ pool: j.pool ?? "", state: j.state }, j.count);
    },
  });
  new Gauge({
    name: "mayfly_vms",
    help: "VMs not terminated, by pool and state",
    labelNames: ["pool", "state"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await counts()).runners) this.set({ pool: r.pool, state: r.state }, r.count);
    },
  });
  new Gauge({
    name: "mayfly_subnets",
    help: "Runner subnets, leased to a VM or free",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const { subnets } = await counts();
      this.set({ state: "leased" }, subnets.leased);
      this.set({ state: "free" }, subnets.free);
    },
  });
  // The repository label takes only repositories with a live VM or a job waiting for one
  // now (the gauge is reset at each scrape), which an installation's repositories bound.
  new Gauge({
    name: "mayfly_repository_runners",
    help: "VMs not terminated serving a job of the repository, by pool and repository",
    labelNames: ["pool", "repository"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await counts()).repositories)
        this.set({ pool: r.pool, repository: r.repository }, r.runners);
    },
  });
  new Gauge({
    name: "mayfly_repository_runner_limit",
    help: "VMs one repository may have in the pool at once (maxRunnersPerRepository), for pools with a cap",
    labelNames: ["pool"],
    registers: [registry],
    collect() {
      this.reset();
      for (const pool of limits?.pools ?? []) {
        const cap = repositoryCapOf(limits?.caps, pool);
        if (cap !== undefined) this.set({ pool }, cap);
      }
    },
  });
  new Gauge({
    name: "mayfly_jobs_held",
    help: "Queued jobs waiting because their repository is at the pool's maxRunnersPerRepository, by pool",
    labelNames: ["pool", "reason"],
    registers: [registry],
    async collect() {
      this.reset();
      if (limits === undefined) return;
      const shares = repositoryShares(limits.pools, (await counts()).repositories, limits.caps);
      for (const share of shares)
        if (share.limit !== null)
          this.set(
            { pool: share.pool, reason: "repository-limit" },
            share.repositories.reduce((sum, r) => sum + r.held, 0),
          );
    },
  });
}
