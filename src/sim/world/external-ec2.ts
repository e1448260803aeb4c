import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  type Instance,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { createEc2Client } from "../../cloud/ec2/ec2-client.js";
import type { IdentityDocumentFields } from "../identity/render-identity-document.js";
import { type WorldEc2, type WorldVm, wholeSeconds } from "./world-ec2.js";

export interface ExternalEc2Options {
  /** e.g. moto_server's http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Only VMs tagged mayfly:fleet=<fleet> are played. */
  readonly fleet: string;
  /** Called once per new VM with its identity document's fields and decoded user data. */
  readonly onLaunch: (identity: IdentityDocumentFields, userData: string) => void;
  /** Between two polls of DescribeInstances; default 200. */
  readonly pollMs?: number;
}

/** An external EC2 the world plays runner VMs in; `failures` counts requests that failed. */
export interface ExternalEc2 extends WorldEc2 {
  failures(): number;
}

interface Known {
  readonly vm: WorldVm & { terminatedAtMs: number | null };
  status: string;
}

const GONE = new Set(["shutting-down", "terminated"]);
const ALIVE = new Set(["pending", "running"]);

/**
 * Runner VMs in an EC2 endpoint with no launch hook (moto_server): a poll finds new VMs of
 * the fleet and hands their user data on; a VM powering itself off is terminated by request,
 * because moto does not model instance-initiated shutdown. A failed terminate is sent again
 * on the next poll, so none is lost.
 */
export function startExternalEc2(options: ExternalEc2Options): ExternalEc2 {
  const client = createEc2Client({
    endpoint: options.endpoint,
    region: "eu-west-1",
    credentials: { accessKeyId: "sim-world", secretAccessKey: "sim-world" },
    maxAttempts: 3,
  });
  const known = new Map<string, Known>();
  const wantedOff = new Set<string>();
  const inFlight = new Set<Promise<unknown>>();
  let failures = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const track = <T>(p: Promise<T>): Promise<T | undefined> => {
    const guarded = p.catch(() => {
      failures += 1;
      return undefined;
    });
    inFlight.add(guarded);
    void guarded.finally(() => inFlight.delete(guarded));
    return guarded;
  };

  const setStatus = (entry: Known, status: string) => {
    // Our own power-off is ahead of what the endpoint reports until it catches up.
    if (GONE.has(entry.status) && !GONE.has(status)) return;
    entry.status = status;
    if (GONE.has(status)) entry.vm.terminatedAtMs ??= Date.now();
  };

  const terminate = (ids: string[]) =>
    track(client.send(new TerminateInstancesCommand({ InstanceIds: ids })));

  async function describeOurs(): Promise<(Instance & { ownerId?: string })[]> {
    const out: (Instance & { ownerId?: string })[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: "tag:mayfly:fleet", Values: [options.fleet] }],
          ...(token === undefined ? {} : { NextToken: token }),
        }),
      );
      for (const r of page.Reservations ?? [])
        for (const i of r.Instances ?? [])
          out.push({ ...i, ...(r.OwnerId === undefined ? {} : { ownerId: r.OwnerId }) });
      token = page.NextToken;
    } while (token);
    return out;
  }

  async function userDataOf(instanceId: string): Promise<string> {
    const answer = await client.send(
      new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "userData" }),
    );
    return Buffer.from(answer.UserData?.Value ?? "", "base64").toString("utf8");
  }

  async function poll(): Promise<void> {
    const again: string[] = [];
    for (const instance of await describeOurs()) {
      const id = instance.InstanceId;
      if (!id) continue;
      const status = instance.State?.Name ?? "pending";
      const entry = known.get(id);
      if (entry !== undefined) {
        if (wantedOff.has(id) && ALIVE.has(status)) again.push(id);
        setStatus(entry, status);
        continue;
      }
      const tags = Object.fromEntries(
        (instance.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]),
      );
      const vm = {
        instanceId: id,
        subnetId: instance.SubnetId ?? "",
        tags,
        launchedAtMs: Date.now(),
        terminatedAtMs: null,
      };
      const fresh: Known = { vm, status: "pending" };
      setStatus(fresh, status);
      if (!ALIVE.has(status)) {
        known.set(id, fresh);
        continue;
      }
      // Known only once its user data is read, so a failed read is tried on the next poll.
      const userData = await userDataOf(id);
      known.set(id, fresh);
      const zone = instance.Placement?.AvailabilityZone ?? "eu-west-1a";
      options.onLaunch(
        {
          accountId: instance.ownerId ?? "123456789012",
          region: zone.replace(/[a-z]$/, ""),
          instanceId: id,
          pendingTime: wholeSeconds(instance.LaunchTime ?? new Date()),
          availabilityZone: zone,
          instanceType: instance.InstanceType ?? "",
          imageId: instance.ImageId ?? "",
        },
        userData,
      );
    }
    if (again.length > 0) await terminate(again);
  }

  const tick = () => {
    const round = track(poll());
    void round.then(() => {
      if (!stopped) timer = setTimeout(tick, options.pollMs ?? 200);
    });
  };
  tick();

  return {
    url: options.endpoint,
    instances: () => [...known.values()].map((k) => ({ ...k.vm })),
    statusOf: (instanceId) => known.get(instanceId)?.status,
    failures: () => failures,
    powerOff(instanceId) {
      const entry = known.get(instanceId);
      if (entry === undefined || GONE.has(entry.status)) return;
      setStatus(entry, "shutting-down");
      wantedOff.add(instanceId);
      void terminate([instanceId]);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      clearTimeout(timer);
      client.destroy();
    },
  };
}
