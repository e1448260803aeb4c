import { type SimEc2, type SimEc2Options, startSimEc2 } from "../ec2/sim-ec2.js";
import type { SimJob } from "../github/sim-state.js";
import {
  type SimGitHub,
  type SimGitHubOptions,
  startSimGitHub,
} from "../github/start-sim-github.js";
import { createIdentitySigner } from "../identity/sign-identity.js";
import { startExternalEc2 } from "./external-ec2.js";
import { JobRouter } from "./job-router.js";
import { Timers } from "./timers.js";
import { type WebhookFaults, WebhookSender } from "./webhook-sender.js";
import { type WorldEc2, wholeSeconds } from "./world-ec2.js";

export type { WebhookFaults } from "./webhook-sender.js";
export type { WorldEc2, WorldVm } from "./world-ec2.js";

export interface SimWorldOptions {
  /** Default "example-org". */
  readonly org?: string;
  /** Default 77. */
  readonly installationId?: number;
  /** VM launch to runner online, in milliseconds; default 200. */
  readonly bootMs?: number;
  /** A runner online with no job this long powers its VM off; default 5000. */
  readonly idleTimeoutMs?: number;
  /** Subnet → Availability Zone, for the EC2 sim. */
  readonly subnets?: Readonly<Record<string, string>>;
  readonly github?: SimGitHubOptions;
  readonly ec2?: SimEc2Options;
  /** Picks among equally good idle runners and orders shuffled deliveries; default Math.random. */
  readonly random?: () => number;
  /** A VM for which this is true stays running, but its runner never comes online; default none. */
  readonly bootFails?: (instanceId: string) => boolean;
}

/**
 * A world whose VMs live in an external EC2 endpoint (e.g. moto_server) instead of the EC2
 * sim: the world polls it for the fleet's new VMs and terminates each one its runner powers off.
 */
export interface ExternalWorldOptions extends Omit<SimWorldOptions, "ec2" | "subnets"> {
  readonly ec2Endpoint: string;
  /** The fleet (tag mayfly:fleet) whose VMs the world plays; default "demo". */
  readonly fleet?: string;
  /** Between two polls of the endpoint, in milliseconds; default 200. */
  readonly pollMs?: number;
}

export interface QueueJob {
  /** "owner/name". */
  readonly repository: string;
  readonly labels: string[];
  /** How long the job runs once a runner takes it. */
  readonly durationMs: number;
  readonly name?: string;
  readonly workflowName?: string;
  readonly runId?: number;
}

/**
 * GitHub, EC2 and the runner VMs between them, so that whole job lives happen. `ec2` is the
 * EC2 sim, or with an external endpoint only what the world knows of it.
 */
export interface SimWorld<Ec2 extends WorldEc2 = SimEc2> {
  readonly github: SimGitHub;
  readonly ec2: Ec2;
  /**
   * The certificate the world's EC2 signs identity documents with: the controller trusts it
   * instead of AWS's (MAYFLY_EC2_IDENTITY_CERT_FILE).
   */
  readonly identityCertificatePem: string;
  /** Where webhooks go and the secret that signs them; before this they are only logged. */
  connect(target: { url: string; secret: string }): void;
  /** Creates a queued job and sends its `queued` webhook; resolves to the job ID. */
  queueJob(job: QueueJob): Promise<number>;
  /** What a VM sent the assignment endpoint (identity document and signature), once booted. */
  assignmentRequestOf(
    instanceId: string,
  ): { readonly document: string; readonly signature: string } | undefined;
  /** Cancels a queued or running job (`completed`, conclusion "cancelled"). */
  cancelJob(jobId: number): Promise<void>;
  /** Faults for the next deliveries: send twice, let the next one overtake, or drop. */
  faults(f: WebhookFaults): void;
  /** Every job as it stands now. */
  jobs(): SimJob[];
  /** `webhooksSent` counts every POST made, failed ones included. */
  stats(): {
    webhooksSent: number;
    webhooksFailed: number;
    vmsBooted: number;
    jobsRun: number;
    /** Each assignment request's time, answered or not, in milliseconds. */
    assignMs: readonly number[];
  };
  stop(): Promise<void>;
}

/** Starts a simulated GitHub and EC2 on loopback and plays the runner VMs between them. */
export function startSimWorld(options: ExternalWorldOptions): Promise<SimWorld<WorldEc2>>;
export function startSimWorld(options?: SimWorldOptions): Promise<SimWorld>;
export async function startSimWorld(
  options: SimWorldOptions | ExternalWorldOptions = {},
): Promise<SimWorld<WorldEc2>> {
  const org = options.org ?? "example-org";
  const installationId = options.installationId ?? 77;
  const timers = new Timers();
  // The EC2 hook needs the router, which needs the EC2 sim: bind it once both exist.
  let router: JobRouter | undefined;
  // EC2's per-Region identity key, played by a test certificate.
  const signer = createIdentitySigner({ commonName: "mayfly simulated EC2 identity" });
  const region = (!("ec2Endpoint" in options) ? options.ec2?.region : undefined) ?? "eu-west-1";
  const github = await startSimGitHub({
    installations: [{ id: installationId, org }],
    ...options.github,
  });
  const ec2: WorldEc2 = !("ec2Endpoint" in options)
    ? await startSimEc2({
        ...(options.subnets === undefined ? {} : { subnets: options.subnets }),
        ...options.ec2,
        onLaunch: (instance, userData) => {
          options.ec2?.onLaunch?.(instance, userData);
          router?.launched(
            {
              // The simulated EC2's owner ID (sim-ec2-state.ts).
              accountId: "123456789012",
              region,
              instanceId: instance.instanceId,
              pendingTime: wholeSeconds(instance.launchedAtMs),
              availabilityZone: instance.availabilityZone,
              instanceType: instance.instanceType,
              imageId: instance.imageId,
            },
            userData,
          );
        },
      })
    : startExternalEc2({
        endpoint: options.ec2Endpoint,
        fleet: options.fleet ?? "demo",
        ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
        onLaunch: (identity, userData) => router?.launched(identity, userData),
      });
  const webhooks = new WebhookSender(github, installationId, options.random ?? Math.random);
  const routing = new JobRouter({
    github,
    ec2,
    webhooks,
    timers,
    installationId,
    bootMs: options.bootMs ?? 200,
    idleTimeoutMs: options.idleTimeoutMs ?? 5000,
    signer,
    random: options.random ?? Math.random,
    ...(options.bootFails === undefined ? {} : { bootFails: options.bootFails }),
  });
  router = routing;
  let nextJobId = 1001;
  let stopping: Promise<void> | undefined;

  return {
    github,
    ec2,
    identityCertificatePem: signer.certificatePem,
    connect: (target) => webhooks.connect(target),
    async queueJob(job) {
      const id = nextJobId++;
      const created = github.addJob({
        id,
        repository: job.repository,
        labels: [...job.labels],
        ...(job.name === undefined ? {} : { name: job.name }),
        ...(job.workflowName === undefined ? {} : { workflowName: job.workflowName }),
        ...(job.runId === undefined ? {} : { runId: job.runId }),
      });
      await routing.queue(created, job.durationMs);
      return id;
    },
    assignmentRequestOf: (instanceId) => routing.askedWith.get(instanceId),
    cancelJob: (jobId) => routing.cancel(jobId),
    faults: (f) => webhooks.faults(f),
    jobs: () => routing.jobs(),
    stats: () => ({
      webhooksSent: webhooks.sent,
      webhooksFailed: webhooks.failed,
      vmsBooted: routing.vmsBooted,
      jobsRun: routing.jobsRun,
      assignMs: routing.assignMs,
    }),
    stop() {
      stopping ??= (async () => {
        timers.stop();
        await webhooks.stop();
        await Promise.all([github.stop(), ec2.stop()]);
      })();
      return stopping;
    },
  };
}
