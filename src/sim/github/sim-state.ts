import { randomBytes, randomUUID } from "node:crypto";
import type { SimApp } from "./sim-app.js";

/** A runner registration as the simulated GitHub keeps it. */
export interface SimRunner {
  id: number;
  name: string;
  os: string;
  status: "online" | "offline";
  busy: boolean;
  labels: string[];
  org: string;
  /** "owner/name" for a repository-level runner. */
  repository?: string;
  runnerGroupId: number;
}

/** A runner group of an organisation, as the simulated GitHub keeps it. */
export interface SimRunnerGroup {
  readonly id: number;
  readonly org: string;
  name: string;
  visibility: "all" | "selected" | "private";
  /** Full names ("owner/name"), lower-cased: who may use it when `visibility` is selected. */
  repositories: Set<string>;
  allowsPublicRepositories: boolean;
  readonly isDefault: boolean;
}

/** A repository of an organisation the App is installed on. */
export interface SimRepository {
  readonly id: number;
  readonly fullName: string;
  readonly private: boolean;
}

/** A workflow job as the simulated GitHub keeps it. */
export interface SimJob {
  id: number;
  runId: number;
  repository: string;
  name: string;
  workflowName: string;
  headBranch: string | null;
  headSha: string;
  labels: string[];
  status: "queued" | "in_progress" | "completed" | "waiting";
  conclusion: string | null;
  runnerId: number | null;
  runnerName: string | null;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
}

/** One entry of the App's webhook delivery log. */
export interface SimDelivery {
  id: number;
  guid: string;
  event: string;
  action: string | null;
  deliveredAt: Date;
  redelivery: boolean;
  installationId: number | null;
  payload: unknown;
  /** The receiver's HTTP answer; 0 while none came (not sent, refused, timed out). */
  statusCode: number;
}

/** What exchanging a manifest code hands out, once. */
export interface SimManifestCode {
  appId: number;
  pem: string;
  webhookSecret: string;
  clientSecret: string;
  issuedAt: number;
}

export interface SimInstallation {
  id: number;
  org: string;
}

/** Everything the simulated GitHub remembers; routes read and change it. */
export class SimGitHubState {
  readonly runners = new Map<number, SimRunner>();
  /** Runner groups made through the API, by ID; see `runnerGroup` for the Default ones. */
  readonly runnerGroups = new Map<number, SimRunnerGroup>();
  readonly #defaultGroups = new Map<string, SimRunnerGroup>();
  /** Repositories by lower-cased full name, known once asked for or arranged by a test. */
  readonly repositories = new Map<string, SimRepository>();
  readonly jobs = new Map<number, SimJob>();
  readonly deliveries: SimDelivery[] = [];
  readonly tokens = new Map<string, { installationId: number; expiresAt: number }>();
  readonly requests: { method: string; path: string; atMs: number }[] = [];
  /** Every App, by ID: the configured one and those created from a manifest. */
  readonly apps = new Map<number, SimApp>();
  /** Codes of the manifest flow not yet exchanged. */
  readonly manifestCodes = new Map<string, SimManifestCode>();
  tokenRequests = 0;
  #nextRunnerId = 1;
  #nextDeliveryId = 1;
  #nextGroupId = 2;
  #nextRepositoryId = 9_000_001;

  constructor(
    readonly appId: number,
    readonly installations: readonly SimInstallation[],
    readonly now: () => number,
  ) {}

  /** The runner group of this ID in `org` (the Default group, 1, in every installed org). */
  runnerGroup(org: string, id: number): SimRunnerGroup | undefined {
    const key = org.toLowerCase();
    if (id !== 1) {
      const group = this.runnerGroups.get(id);
      return group?.org.toLowerCase() === key ? group : undefined;
    }
    if (this.installationOf(org) === undefined) return undefined;
    let group = this.#defaultGroups.get(key);
    if (group === undefined) {
      group = {
        id: 1,
        org,
        name: "Default",
        visibility: "all",
        repositories: new Set(),
        allowsPublicRepositories: false,
        isDefault: true,
      };
      this.#defaultGroups.set(key, group);
    }
    return group;
  }

  /** Every runner group of `org`, the Default one first. */
  runnerGroupsOf(org: string): SimRunnerGroup[] {
    const own = [...this.runnerGroups.values()].filter(
      (g) => g.org.toLowerCase() === org.toLowerCase(),
    );
    const first = this.runnerGroup(org, 1);
    return first === undefined ? own : [first, ...own];
  }

  /** A runner group of `org`'s own, as POST /orgs/{org}/actions/runner-groups makes it. */
  addRunnerGroup(group: Omit<SimRunnerGroup, "id" | "isDefault">): SimRunnerGroup {
    const created = { ...group, id: this.#nextGroupId++, isDefault: false };
    this.runnerGroups.set(created.id, created);
    return created;
  }

  /** A repository of an installed organisation (private unless a test made it public). */
  repository(fullName: string, visibility: "private" | "public" = "private"): SimRepository {
    const key = fullName.toLowerCase();
    let repo = this.repositories.get(key);
    if (repo === undefined) {
      repo = { id: this.#nextRepositoryId++, fullName, private: visibility === "private" };
      this.repositories.set(key, repo);
    }
    return repo;
  }

  /** An ID no App has yet. */
  newAppId(): number {
    return Math.max(this.appId + 1000, ...this.apps.keys()) + 1;
  }

  installationOf(org: string): SimInstallation | undefined {
    return this.installations.find((i) => i.org.toLowerCase() === org.toLowerCase());
  }

  /** Mints an installation token that lives one hour, like GitHub's. */
  mintToken(installationId: number): { token: string; expiresAt: Date } {
    const token = `ghs_${randomBytes(18).toString("base64url").replace(/[-_]/g, "x")}`;
    const expiresAt = this.now() + 3_600_000;
    this.tokens.set(token, { installationId, expiresAt });
    this.tokenRequests += 1;
    return { token, expiresAt: new Date(expiresAt) };
  }

  /** Every JIT config answered, for tests that look for them where they must never be. */
  readonly issuedJitConfigs: string[] = [];

  addRunner(runner: Omit<SimRunner, "id">): SimRunner {
    const created = { ...runner, id: this.#nextRunnerId++ };
    this.runners.set(created.id, created);
    return created;
  }

  /** Appends a delivery to the log, as if GitHub had just sent it. */
  recordDelivery(
    event: string,
    payload: unknown,
    options: {
      deliveredAt?: Date;
      redelivery?: boolean;
      installationId?: number;
      statusCode?: number;
    } = {},
  ): SimDelivery {
    const action =
      typeof payload === "object" && payload !== null && "action" in payload
        ? String((payload as { action: unknown }).action)
        : null;
    const delivery: SimDelivery = {
      id: this.#nextDeliveryId++,
      guid: randomUUID(),
      event,
      action,
      deliveredAt: options.deliveredAt ?? new Date(this.now()),
      redelivery: options.redelivery ?? false,
      installationId: options.installationId ?? this.installations[0]?.id ?? null,
      payload,
      statusCode: options.statusCode ?? 0,
    };
    this.deliveries.push(delivery);
    return delivery;
  }

  /** Notes the receiver's answer to a logged delivery. */
  deliveryAnswered(id: number, statusCode: number): void {
    const delivery = this.deliveries.find((d) => d.id === id);
    if (delivery !== undefined) delivery.statusCode = statusCode;
  }
}
