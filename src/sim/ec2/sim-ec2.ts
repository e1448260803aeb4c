import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { errorResponse, response } from "./ec2-xml.js";
import { SimEc2Network, type SimEc2NetworkOptions } from "./sim-ec2-network.js";
import {
  type CapacityFault,
  SimEc2Error,
  SimEc2State,
  type SimEc2StateOptions,
} from "./sim-ec2-state.js";
import type { SimInstance } from "./sim-instance.js";
import type { SimNetworkAcl, SimSubnet } from "./sim-subnet.js";
import { TokenBucket } from "./token-bucket.js";

export type { CapacityFault } from "./sim-ec2-state.js";
export type { SimInstance } from "./sim-instance.js";
export type { SimAclEntry, SimNetworkAcl, SimSubnet } from "./sim-subnet.js";

export interface SimEc2Options extends SimEc2StateOptions, SimEc2NetworkOptions {
  /** Actions this caller may not perform: they answer UnauthorizedOperation, dry runs too. */
  readonly deny?: readonly string[];
  /** Delay before each answer, in milliseconds. */
  readonly latencyMs?: number;
  /** Request-token buckets per action (e.g. `{ RunInstances: { capacity: 2, refillPerSecond: 1 } }`). */
  readonly throttle?: Readonly<Record<string, { capacity: number; refillPerSecond: number }>>;
  /** Decides per request whether to answer RequestLimitExceeded (503), as well as the buckets. */
  readonly throttleWhen?: (action: string) => boolean;
  /** Milliseconds since the epoch; defaults to the wall clock. */
  readonly now?: () => number;
  /**
   * How long after an instance is terminated its subnet still answers DeleteSubnet with
   * DependencyViolation (its network interface is still being deleted); default 0.
   */
  readonly eniReleaseMs?: number;
}

export interface SimEc2 {
  /** The endpoint to hand to `EC2Client`. */
  readonly url: string;
  stop(): Promise<void>;
  /** Every instance ever launched, terminated ones included. */
  instances(): SimInstance[];
  /** The status the sim would report for an instance now. */
  statusOf(instanceId: string): string | undefined;
  /** Requests received, all or for one action (throttled ones included). */
  calls(action?: string): number;
  /** Adds a capacity fault; `null` clears them all. */
  setFault(fault: CapacityFault | null): void;
  /** Ends a spot instance the way a capacity reclaim does. */
  interruptSpot(instanceId: string): void;
  /** Shuts an instance down from inside, as `shutdown -h now` does (see SimEc2State.powerOff). */
  powerOff(instanceId: string): void;
  /** Adds instances without requests, for tests needing many. */
  seed(count: number, tags: Record<string, string>, subnetId?: string): SimInstance[];
  /** The VPC's subnets, each with the network ACL it is associated with. */
  subnets(): (SimSubnet & { networkAclId: string })[];
  /** The VPC's network ACLs, with their entries and subnet associations. */
  networkAcls(): SimNetworkAcl[];
  /** Associates another IPv4 block with the VPC. */
  associateVpcCidr(cidr: string): void;
}

const VERSION = "2016-11-15";

/**
 * A simulated EC2 speaking the Query API on loopback, so the real `@aws-sdk/client-ec2`
 * talks to it. Signatures are accepted unchecked. Unlike moto, a repeated ClientToken gives
 * back the first instance, as EC2 does:
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html
 */
export async function startSimEc2(options: SimEc2Options = {}): Promise<SimEc2> {
  const now = options.now ?? Date.now;
  // A subnet stays in use while a VM in it is not terminated, and for `eniReleaseMs` after,
  // as EC2 takes a while to delete a terminated instance's network interface.
  const network = new SimEc2Network(options, (subnetId) =>
    state
      .all()
      .some(
        (i) =>
          i.subnetId === subnetId &&
          (state.statusOf(i) !== "terminated" ||
            now() - (i.terminatedAtMs ?? 0) <
              (options.shuttingDownMs ?? 0) + (options.eniReleaseMs ?? 0)),
      ),
  );
  const state = new SimEc2State(options, now, (id) => network.subnet(id)?.availabilityZone);
  const networkActions = network.actions();
  const buckets = new Map(
    Object.entries(options.throttle ?? {}).map(([action, b]) => [
      action,
      new TokenBucket(b.capacity, b.refillPerSecond, now),
    ]),
  );
  const counts = new Map<string, number>();

  const answer = (action: string, params: Map<string, string>): string => {
    if (params.get("Version") !== VERSION) {
      throw new SimEc2Error(
        "InvalidParameterValue",
        `unsupported Version ${params.get("Version")}`,
      );
    }
    if (buckets.get(action)?.take() === false || options.throttleWhen?.(action) === true) {
      throw new SimEc2Error("RequestLimitExceeded", "Request limit exceeded.", 503);
    }
    // IAM is checked before anything else, and a dry run stops right after it.
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/CommonParameters.html
    if (options.deny?.includes(action)) {
      throw new SimEc2Error(
        "UnauthorizedOperation",
        "You are not authorized to perform this operation.",
        403,
      );
    }
    if (params.get("DryRun") === "true") {
      throw new SimEc2Error(
        "DryRunOperation",
        "Request would have succeeded, but DryRun flag is set.",
        412,
      );
    }
    const networkAction = networkActions[action];
    if (networkAction !== undefined) return networkAction(params);
    if (action === "RunInstances") return state.runInstances(params);
    if (action === "TerminateInstances") return state.terminateInstances(params);
    if (action === "DescribeInstances") return state.describeInstances(params);
    throw new SimEc2Error(
      "InvalidAction",
      `The action ${action} is not valid for this web service.`,
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params = new Map(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
    const action = params.get("Action") ?? "";
    counts.set(action, (counts.get(action) ?? 0) + 1);
    if (options.latencyMs) await sleep(options.latencyMs);
    const requestId = randomUUID();
    let status = 200;
    let body: string;
    try {
      body = response(action, requestId, answer(action, params));
    } catch (error) {
      const e =
        error instanceof SimEc2Error
          ? error
          : new SimEc2Error("InternalError", "An internal error has occurred", 500);
      status = e.status;
      body = errorResponse(e.code, e.message, requestId);
    }
    res.writeHead(status, {
      "content-type": "text/xml;charset=UTF-8",
      "x-amzn-requestid": requestId,
    });
    res.end(body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
    instances: () => state.all(),
    statusOf: (id) => {
      const i = state.all().find((x) => x.instanceId === id);
      return i === undefined ? undefined : state.statusOf(i);
    },
    calls: (action) =>
      action === undefined
        ? [...counts.values()].reduce((a, b) => a + b, 0)
        : (counts.get(action) ?? 0),
    setFault: (fault) => state.setFault(fault),
    interruptSpot: (id) => state.interruptSpot(id),
    powerOff: (id) => state.powerOff(id),
    seed: (count, tags, subnetId) => state.seed(count, tags, subnetId),
    subnets: () => network.subnets(),
    networkAcls: () => network.networkAcls(),
    associateVpcCidr: (cidr) => network.associateVpcCidr(cidr),
  };
}
