import type { Secret } from "../config/secret.js";
import type { RunnerGroup, RunnerGroupSpec } from "../core/runner-group.js";

export type { RunnerGroup, RunnerGroupSpec } from "../core/runner-group.js";

/** Where and how to register a just-in-time runner. */
export interface JitConfigRequest {
  installationId: number;
  org: string;
  /** "owner/name": register at repository level instead of organisation level. */
  repository?: string;
  name: string;
  runnerGroupId: number;
  labels: readonly string[];
}

/** A registered just-in-time runner and the config it starts with (its credentials). */
export interface JitRunner {
  runnerId: number;
  runnerName: string;
  /** The labels GitHub registered, which may include defaults it added. */
  labels: string[];
  jitConfig: Secret;
}

/** A self-hosted runner registration. */
export interface RunnerInfo {
  id: number;
  name: string;
  status: "online" | "offline";
  busy: boolean;
  labels: string[];
}

/** A workflow job as GitHub reports it now. */
export interface JobInfo {
  id: number;
  status: string;
  conclusion: string | null;
  runnerName: string | null;
}

/** One entry of the App's webhook delivery log. */
export interface DeliverySummary {
  id: number;
  guid: string;
  event: string;
  action: string | null;
  deliveredAt: Date;
  redelivery: boolean;
  /** The HTTP status our endpoint answered this attempt with (GitHub's `status_code`). */
  statusCode: number;
  /** GitHub's clock when it served the page holding this entry (its Date header), if sent. */
  listedAt?: Date;
}

/** A delivery with the payload GitHub sent. */
export interface DeliveryPayload {
  guid: string;
  event: string;
  payload: unknown;
}

/** An installation's primary rate limit as GitHub last reported it (`x-ratelimit-*` headers). */
export interface RateBudget {
  readonly limit: number;
  readonly remaining: number;
  readonly resetAt: Date;
}

/** What mayfly asks of GitHub, as the App installed on an organisation. */
export interface GitHub {
  /** HTTP requests made to GitHub so far, retries and token mints included. */
  requestsMade(): number;
  /**
   * Those made as an installation (its token): the budget `limits.githubRequestsPerHour`
   * describes. The App's own requests (token mints, the delivery log) have a budget of their own.
   */
  installationRequestsMade(): number;
  /**
   * The lowest budget GitHub reported among the installations whose window has not reset
   * by `now`; undefined before any answer.
   */
  installationBudget(now: Date): RateBudget | undefined;
  /** Answers so far that were a primary or secondary rate limit. */
  rateLimitsMet(): number;
  /** Registers a single-use runner and returns its JIT config (a secret: never store or log it). */
  generateJitConfig(req: JitConfigRequest): Promise<JitRunner>;
  /**
   * Removes a runner registration; "gone" if it did not exist, "busy" while it runs a job.
   * A runner registered at repository level is found only on its repository's route, so
   * `repository` ("owner/name") must be given for one; without it, the organisation's.
   */
  deleteRunner(
    installationId: number,
    org: string,
    runnerId: number,
    repository?: string,
  ): Promise<"deleted" | "gone" | "busy">;
  /**
   * The registration of this name at organisation level, or at `repository` ("owner/name")
   * level when given; undefined when GitHub has none.
   */
  findRunner(
    installationId: number,
    org: string,
    name: string,
    repository?: string,
  ): Promise<RunnerInfo | undefined>;
  /** The App's installation on an organisation (the App's own credential); undefined if none. */
  installationIdOf(org: string): Promise<number | undefined>;
  /** The organisation's runner group of this name, with its repositories; undefined if none. */
  findRunnerGroup(
    installationId: number,
    org: string,
    name: string,
  ): Promise<RunnerGroup | undefined>;
  /** Creates a runner group as `spec` says; answers its ID. */
  createRunnerGroup(installationId: number, org: string, spec: RunnerGroupSpec): Promise<number>;
  /** Sets a runner group's visibility, public-repository flag and repositories to `spec`'s. */
  updateRunnerGroup(
    installationId: number,
    org: string,
    groupId: number,
    spec: RunnerGroupSpec,
  ): Promise<void>;
  /** Every organisation-level runner registration, page by page. */
  listRunners(installationId: number, org: string): AsyncIterable<RunnerInfo>;
  /** A job of a repository ("owner/name"), or undefined when GitHub does not know it. */
  getJob(installationId: number, repository: string, jobId: number): Promise<JobInfo | undefined>;
  /** The App's webhook deliveries made at or after `since`, newest first. */
  listDeliveries(since: Date): AsyncIterable<DeliverySummary>;
  /** The payload of one delivery from the App's delivery log. */
  getDeliveryPayload(id: number): Promise<DeliveryPayload>;
}
