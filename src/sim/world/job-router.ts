import type { SimJob, SimRunner } from "../github/sim-state.js";
import type { SimGitHub } from "../github/start-sim-github.js";
import {
  type IdentityDocumentFields,
  renderIdentityDocument,
} from "../identity/render-identity-document.js";
import type { IdentitySigner } from "../identity/sign-identity.js";
import { jobPayload } from "./job-payload.js";
import { runnerTakesJob } from "./runner-takes-job.js";
import { askAssignment, runnerIdOfJitConfig, vmSettingsOf } from "./runner-vm-script.js";
import type { Timers } from "./timers.js";
import type { WebhookSender } from "./webhook-sender.js";
import type { WorldEc2 } from "./world-ec2.js";

export interface JobRouterOptions {
  readonly github: SimGitHub;
  readonly ec2: Pick<WorldEc2, "statusOf" | "powerOff">;
  readonly webhooks: WebhookSender;
  readonly timers: Timers;
  readonly installationId: number;
  readonly bootMs: number;
  readonly idleTimeoutMs: number;
  /** Signs each VM's identity document, as EC2's Region key does. */
  readonly signer: IdentitySigner;
  readonly random: () => number;
  /** A VM for which this is true never brings its runner online (a failed boot). */
  readonly bootFails?: (instanceId: string) => boolean;
}

/** A runner VM the world plays: booted or booting, maybe running a job. */
interface Vm {
  readonly instanceId: string;
  readonly runnerId: number;
  /** Cancels whatever the VM is waiting for: boot, idle timeout, or the job's end. */
  cancel: () => void;
  jobId: number | null;
}

/**
 * GitHub's job routing and the runner VMs' lives: a booted runner goes online and takes the
 * oldest queued job its labels fit, which may not be the job it was launched for (as on
 * GitHub: https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/using-self-hosted-runners-in-a-workflow#routing-precedence-for-self-hosted-runners).
 */
export class JobRouter {
  readonly #jobs = new Map<number, SimJob>();
  readonly #durations = new Map<number, number>();
  readonly #vms = new Map<number, Vm>();
  vmsBooted = 0;
  jobsRun = 0;
  /** How long each assignment request took, answered or not, in milliseconds. */
  readonly assignMs: number[] = [];
  /** What each VM sends the assignment endpoint: its identity document and signature. */
  readonly askedWith = new Map<string, { readonly document: string; readonly signature: string }>();

  constructor(private readonly o: JobRouterOptions) {}

  jobs(): SimJob[] {
    return [...this.#jobs.values()];
  }

  /** Adds a queued job, sends `queued`, and hands it to an idle matching runner if any. */
  queue(job: SimJob, durationMs: number): Promise<void> {
    this.#jobs.set(job.id, job);
    this.#durations.set(job.id, durationMs);
    const sent = this.#send("queued", job);
    const idle = [...this.#vms.values()]
      .map((vm) => ({ vm, runner: this.#runner(vm.runnerId) }))
      .filter(({ vm, runner }) => runner !== undefined && this.#idle(vm, runner))
      .filter(({ runner }) => this.#takes(runner as SimRunner, job));
    const pick = idle[Math.floor(this.o.random() * idle.length)];
    if (pick !== undefined) this.#start(pick.vm, pick.runner as SimRunner, job);
    return sent;
  }

  cancel(jobId: number): Promise<void> {
    const job = this.#jobs.get(jobId);
    if (job === undefined) throw new Error(`no job ${jobId}`);
    if (job.status === "completed") return Promise.resolve();
    const vm = [...this.#vms.values()].find((v) => v.jobId === jobId);
    return this.#finish(job, "cancelled", vm);
  }

  /**
   * A VM launched (the EC2 sim's hook, or an external EC2's poll): it boots, asks the
   * controller for its assignment with its signed identity document as the boot script does
   * (again on a 204 or 429, powering off on any refusal or past its boot timeout), then its
   * runner comes online.
   */
  launched(identity: IdentityDocumentFields, userData: string): void {
    const { instanceId } = identity;
    this.o.timers.after(this.o.bootMs, () => {
      if (this.#gone(instanceId) || this.o.bootFails?.(instanceId) === true) return;
      const settings = vmSettingsOf(userData);
      if (settings === undefined) return this.#powerOff(instanceId);
      const document = renderIdentityDocument(identity);
      const body = { document, signature: this.o.signer.sign(document) };
      this.askedWith.set(instanceId, body);
      const deadline = Date.now() + settings.bootTimeoutSeconds * 1000;
      const ask = async () => {
        if (this.o.timers.stopped || this.#gone(instanceId)) return;
        if (Date.now() > deadline) return this.#powerOff(instanceId);
        const started = performance.now();
        const result = await askAssignment(settings.assignmentUrl, body);
        this.assignMs.push(performance.now() - started);
        if (result.kind === "again") return void this.o.timers.after(result.afterMs, ask);
        if (result.kind === "power-off") return this.#powerOff(instanceId);
        this.#online(instanceId, runnerIdOfJitConfig(result.jitConfig));
      };
      void ask();
    });
  }

  #online(instanceId: string, runnerId: number | undefined): void {
    if (this.o.timers.stopped || this.#gone(instanceId)) return;
    const runner = runnerId === undefined ? undefined : this.#runner(runnerId);
    // run.sh fails without a valid registration, and the script powers off after it.
    if (runner === undefined || runnerId === undefined) {
      this.#powerOff(instanceId);
      return;
    }
    this.vmsBooted += 1;
    const vm: Vm = { instanceId, runnerId, cancel: () => {}, jobId: null };
    this.#vms.set(runnerId, vm);
    this.o.github.setRunner(runnerId, { status: "online", busy: false });
    const job = this.#oldestQueued(runner);
    if (job === undefined) this.#waitIdle(vm);
    else this.#start(vm, runner, job);
  }

  #takes(runner: SimRunner, job: SimJob): boolean {
    return runnerTakesJob(runner, job, this.o.github.runnerGroup(runner.org, runner.runnerGroupId));
  }

  #waitIdle(vm: Vm): void {
    vm.cancel = this.o.timers.after(this.o.idleTimeoutMs, () => this.#release(vm));
  }

  #start(vm: Vm, runner: SimRunner, job: SimJob): void {
    vm.cancel();
    vm.jobId = job.id;
    runner.busy = true;
    job.status = "in_progress";
    job.startedAt = new Date();
    job.runnerId = runner.id;
    job.runnerName = runner.name;
    this.jobsRun += 1;
    void this.#send("in_progress", job);
    vm.cancel = this.o.timers.after(this.#durations.get(job.id) ?? 0, () => {
      // A runner whose VM was ended under it never reports back, and GitHub fails its job.
      void this.#finish(job, this.#gone(vm.instanceId) ? "failure" : "success", vm);
    });
  }

  #finish(job: SimJob, conclusion: string, vm: Vm | undefined): Promise<void> {
    job.status = "completed";
    job.conclusion = conclusion;
    job.completedAt = new Date();
    const sent = this.#send("completed", job);
    if (vm !== undefined) this.#release(vm);
    return sent;
  }

  /** An ephemeral runner's end: its registration goes, and the VM shuts itself down. */
  #release(vm: Vm): void {
    vm.cancel();
    this.#vms.delete(vm.runnerId);
    this.o.github.removeRunner(vm.runnerId);
    this.#powerOff(vm.instanceId);
  }

  #powerOff(instanceId: string): void {
    try {
      this.o.ec2.powerOff(instanceId);
    } catch {
      // Launched without terminate-on-shutdown: the sim has no "stopped" state to show.
    }
  }

  #oldestQueued(runner: SimRunner): SimJob | undefined {
    return [...this.#jobs.values()]
      .filter((j) => j.status === "queued" && this.#takes(runner, j))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id)[0];
  }

  #idle(vm: Vm, runner: SimRunner): boolean {
    return vm.jobId === null && runner.status === "online" && !runner.busy;
  }

  #runner(id: number): SimRunner | undefined {
    return this.o.github.runners().find((r) => r.id === id);
  }

  #gone(instanceId: string): boolean {
    const status = this.o.ec2.statusOf(instanceId);
    return status === undefined || status === "shutting-down" || status === "terminated";
  }

  #send(action: "queued" | "in_progress" | "completed", job: SimJob): Promise<void> {
    return this.o.webhooks.deliver("workflow_job", jobPayload(action, job, this.o.installationId));
  }
}
