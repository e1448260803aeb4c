import { createHash } from "node:crypto";
import { el, instanceXml, items, stateXml } from "./ec2-xml.js";
import { listOf, type Params, structOf, structsOf, tagsOf } from "./query-params.js";
import type { SimInstance } from "./sim-instance.js";

/** An error EC2 would answer with; `status` is the HTTP status AWS uses for it. */
export class SimEc2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** A capacity fault tests switch on; an absent field matches any value. */
export interface CapacityFault {
  readonly code: "InsufficientInstanceCapacity" | "Unsupported" | "MaxSpotInstanceCountExceeded";
  readonly instanceType?: string;
  readonly availabilityZone?: string;
  readonly market?: "spot" | "on-demand";
}

export interface SimEc2StateOptions {
  /** Subnet → Availability Zone; a subnet not listed gets a zone derived from its ID. */
  readonly subnets?: Readonly<Record<string, string>>;
  /** When set, only the VPC's subnets exist (others answer InvalidSubnetID.NotFound). */
  readonly strictSubnets?: boolean;
  /** Milliseconds an instance stays pending, and shutting-down. */
  readonly pendingMs?: number;
  readonly shuttingDownMs?: number;
  readonly region?: string;
  /** Launch template names (or IDs) that exist; RunInstances naming another is refused. */
  readonly launchTemplates?: readonly string[];
  /**
   * Called once per new instance (not for a repeated ClientToken) with its decoded user
   * data, so a test can play the VM's part; the data is handed over, never kept.
   */
  readonly onLaunch?: (instance: SimInstance, userData: string) => void;
}

/** The DescribeInstances filters the sim answers (#field); EC2 has more, the sim refuses them. */
const INSTANCE_FILTERS = new Set(["instance-state-name", "instance-type", "availability-zone"]);

/** A RunInstances request's parameters but its ClientToken, in one comparable string. */
function requestKey(p: Params): string {
  return JSON.stringify(
    [...p].filter(([k]) => k !== "ClientToken").sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

// "User data is limited to 16 KB, in raw form, before it is base64-encoded."
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html
const USER_DATA_LIMIT = 16 * 1024;

const CAPACITY_MESSAGES: Record<CapacityFault["code"], [number, string]> = {
  InsufficientInstanceCapacity: [
    500,
    "We currently do not have sufficient capacity in the Availability Zone you requested.",
  ],
  Unsupported: [
    400,
    "Your requested instance type is not supported in your requested Availability Zone.",
  ],
  MaxSpotInstanceCountExceeded: [400, "Max spot instance count exceeded"],
};

/** The instances of the simulated EC2 and the actions on them. */
export class SimEc2State {
  readonly #instances = new Map<string, SimInstance>();
  readonly #byToken = new Map<string, { instanceId: string; request: string }>();
  #faults: CapacityFault[] = [];
  #next = 0;

  /** `subnetZone`: the zone of a subnet the VPC has (see SimEc2Network), if any. */
  constructor(
    private readonly options: SimEc2StateOptions,
    private readonly now: () => number,
    private readonly subnetZone: (subnetId: string) => string | undefined = () => undefined,
  ) {}

  setFault(fault: CapacityFault | null): void {
    this.#faults = fault === null ? [] : [...this.#faults, fault];
  }

  all(): SimInstance[] {
    return [...this.#instances.values()];
  }

  statusOf(i: SimInstance): string {
    const now = this.now();
    if (i.terminatedAtMs !== null) {
      return now - i.terminatedAtMs >= (this.options.shuttingDownMs ?? 0)
        ? "terminated"
        : "shutting-down";
    }
    return now - i.launchedAtMs >= (this.options.pendingMs ?? 0) ? "running" : "pending";
  }

  /** Adds instances straight into the state, as if launched earlier. */
  seed(count: number, tags: Record<string, string>, subnetId = "subnet-seed"): SimInstance[] {
    return Array.from({ length: count }, () =>
      this.#add({ ImageId: "ami-0123456789abcdef0", SubnetId: subnetId }, tags, {}, 0),
    );
  }

  /** Starts a spot interruption, as EC2 does when it reclaims the capacity. */
  interruptSpot(instanceId: string): void {
    const i = this.#instances.get(instanceId);
    if (i === undefined) throw new Error(`no instance ${instanceId}`);
    i.terminatedAtMs = this.now();
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StateReason.html
    i.stateReason = {
      code: "Server.SpotInstanceTermination",
      message: "Server.SpotInstanceTermination: Spot instance termination",
    };
    i.stateTransitionReason = `Service initiated (${new Date(this.now()).toISOString()})`;
  }

  /**
   * What `shutdown -h now` inside the VM does when it was launched with
   * InstanceInitiatedShutdownBehavior=terminate; a no-op once termination has begun.
   */
  powerOff(instanceId: string): void {
    const i = this.#instances.get(instanceId);
    if (i === undefined) throw new Error(`no instance ${instanceId}`);
    // The sim has no "stopped" state, so only the terminate behaviour is modelled.
    if (i.shutdownBehavior !== "terminate") {
      throw new Error(`${instanceId} was not launched with shutdown behaviour terminate`);
    }
    if (i.terminatedAtMs !== null) return;
    i.terminatedAtMs = this.now();
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StateReason.html
    i.stateReason = {
      code: "Client.InstanceInitiatedShutdown",
      message: "Client.InstanceInitiatedShutdown: Instance initiated shutdown",
    };
    i.stateTransitionReason = `User initiated (${new Date(this.now()).toISOString()})`;
  }

  runInstances(p: Params): string {
    for (const count of ["MinCount", "MaxCount"]) {
      if (p.get(count) !== "1")
        throw new SimEc2Error("InvalidParameterValue", `${count} must be 1`);
    }
    const image = p.get("ImageId") ?? "";
    if (!/^ami-[0-9a-f]{8,17}$/.test(image) && !image.startsWith("resolve:ssm:")) {
      throw new SimEc2Error(
        "InvalidAMIID.Malformed",
        `Invalid id: "${image}" (expecting "ami-...")`,
      );
    }
    const subnet = p.get("SubnetId") ?? "";
    // Unless strict, an unknown subnet gets a derived zone (tests that need no VPC).
    if (this.options.strictSubnets && this.subnetZone(subnet) === undefined) {
      throw new SimEc2Error("InvalidSubnetID.NotFound", `The subnet ID '${subnet}' does not exist`);
    }
    const template =
      p.get("LaunchTemplate.LaunchTemplateName") ?? p.get("LaunchTemplate.LaunchTemplateId");
    if (template !== undefined && !this.options.launchTemplates?.includes(template)) {
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
      throw p.has("LaunchTemplate.LaunchTemplateName")
        ? new SimEc2Error(
            "InvalidLaunchTemplateName.NotFoundException",
            `The specified launch template, with template name ${template}, does not exist.`,
          )
        : new SimEc2Error(
            "InvalidLaunchTemplateId.NotFound",
            `The specified launch template, with template ID ${template}, does not exist.`,
          );
    }
    const token = p.get("ClientToken");
    // "Constraints: Maximum 64 ASCII characters" (RunInstances, ClientToken).
    if (token !== undefined && (token.length > 64 || !/^[\x20-\x7e]*$/.test(token))) {
      throw new SimEc2Error("InvalidParameterValue", "ClientToken: at most 64 ASCII characters");
    }
    const request = token === undefined ? "" : requestKey(p);
    const known = token === undefined ? undefined : this.#byToken.get(token);
    if (known !== undefined) {
      // The same token with other parameters is refused, not answered with the first VM.
      // https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html
      if (known.request !== request) {
        throw new SimEc2Error(
          "IdempotentParameterMismatch",
          "The client token you have provided is associated with a resource that is already deleted or with different parameters.",
        );
      }
      return this.#reservation(this.#instances.get(known.instanceId) as SimInstance);
    }

    const userData = Buffer.from(p.get("UserData") ?? "", "base64");
    if (userData.length > USER_DATA_LIMIT) {
      throw new SimEc2Error("InvalidParameterValue", "User data is limited to 16384 bytes");
    }
    const specs = structsOf(p, "TagSpecification");
    const tagsFor = (type: string) =>
      Object.assign({}, ...specs.filter((s) => s.ResourceType === type).map(tagsOf));
    const market = p.get("InstanceMarketOptions.MarketType") === "spot" ? "spot" : "on-demand";
    const zone = this.zoneOf(subnet);
    const type = p.get("InstanceType") ?? "m1.small";
    const fault = this.#faults.find(
      (f) =>
        (f.instanceType ?? type) === type &&
        (f.availabilityZone ?? zone) === zone &&
        (f.market ?? market) === market &&
        (f.code !== "MaxSpotInstanceCountExceeded" || market === "spot"),
    );
    if (fault !== undefined) {
      const [status, message] = CAPACITY_MESSAGES[fault.code];
      throw new SimEc2Error(fault.code, message, status);
    }
    const params = Object.fromEntries(p);
    const i = this.#add(params, tagsFor("instance"), tagsFor("volume"), userData.length);
    if (token !== undefined) this.#byToken.set(token, { instanceId: i.instanceId, request });
    this.options.onLaunch?.(i, userData.toString("utf8"));
    return this.#reservation(i);
  }

  terminateInstances(p: Params): string {
    const ids = listOf(p, "InstanceId");
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html
    if (ids.length > 1000) {
      throw new SimEc2Error("InvalidParameterValue", "Up to 1000 instance IDs per request");
    }
    const missing = ids.filter((id) => !this.#instances.has(id));
    if (missing.length > 0) {
      // AWS names every missing ID in one message and terminates none of the batch.
      throw new SimEc2Error(
        "InvalidInstanceID.NotFound",
        missing.length === 1
          ? `The instance ID '${missing[0]}' does not exist`
          : `The instance IDs '${missing.join(", ")}' do not exist`,
      );
    }
    const changes = ids.map((id) => {
      const i = this.#instances.get(id) as SimInstance;
      const before = this.statusOf(i);
      if (i.terminatedAtMs === null) {
        i.terminatedAtMs = this.now();
        i.stateReason = {
          code: "Client.UserInitiatedShutdown",
          message: "Client.UserInitiatedShutdown: User initiated shutdown",
        };
        i.stateTransitionReason = `User initiated (${new Date(this.now()).toISOString()})`;
      }
      return `${el("instanceId", id)}${stateXml("currentState", this.statusOf(i))}${stateXml("previousState", before)}`;
    });
    return items("instancesSet", changes);
  }

  describeInstances(p: Params): string {
    const ids = new Set(listOf(p, "InstanceId"));
    const filters = structsOf(p, "Filter").map((f) => ({
      name: f.Name ?? "",
      values: listOf(new Map(Object.entries(f)), "Value"),
    }));
    // EC2 refuses a filter name it does not know rather than matching nothing.
    const unknown = filters.find(
      (f) => !f.name.startsWith("tag:") && !INSTANCE_FILTERS.has(f.name),
    );
    if (unknown !== undefined) {
      throw new SimEc2Error("InvalidParameterValue", `The filter '${unknown.name}' is invalid`);
    }
    const matching = this.all().filter(
      (i) =>
        (ids.size === 0 || ids.has(i.instanceId)) &&
        filters.every((f) => f.values.includes(this.#field(i, f.name) ?? "\u0000")),
    );
    const size = Number(p.get("MaxResults") ?? matching.length);
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
    if (p.has("MaxResults") && (size < 5 || size > 1000 || ids.size > 0)) {
      throw new SimEc2Error("InvalidParameterValue", "MaxResults must be 5 to 1000, without IDs");
    }
    const start = Number(p.get("NextToken") ?? 0);
    const page = matching.slice(start, start + size);
    const next = start + size < matching.length ? String(start + size) : undefined;
    return `${items(
      "reservationSet",
      page.map((i) => this.#reservationBody(i)),
    )}${el("nextToken", next)}`;
  }

  /** The subnet's zone from the options, or one derived from its ID (a, b or c). */
  zoneOf(subnet: string): string {
    const mapped = this.subnetZone(subnet) ?? this.options.subnets?.[subnet];
    if (mapped !== undefined) return mapped;
    const digest = createHash("sha256").update(subnet).digest();
    return `${this.options.region ?? "eu-west-1"}${"abc"[(digest[0] ?? 0) % 3]}`;
  }

  #field(i: SimInstance, name: string): string | undefined {
    if (name.startsWith("tag:")) return i.tags[name.slice(4)];
    if (name === "instance-state-name") return this.statusOf(i);
    if (name === "instance-type") return i.instanceType;
    if (name === "availability-zone") return i.availabilityZone;
    return undefined;
  }

  #add(
    p: Record<string, string>,
    tags: Record<string, string>,
    volumeTags: Record<string, string>,
    userDataBytes: number,
  ): SimInstance {
    this.#next += 1;
    const instanceId = `i-${this.#next.toString(16).padStart(17, "0")}`;
    const subnetId = p.SubnetId ?? "";
    const params = new Map(Object.entries(p));
    const i: SimInstance = {
      instanceId,
      clientToken: p.ClientToken ?? null,
      imageId: p.ImageId ?? "",
      instanceType: p.InstanceType ?? "m1.small",
      subnetId,
      availabilityZone: this.zoneOf(subnetId),
      market: p["InstanceMarketOptions.MarketType"] === "spot" ? "spot" : "on-demand",
      spotOptions: structOf(params, "InstanceMarketOptions.SpotOptions"),
      shutdownBehavior: p.InstanceInitiatedShutdownBehavior ?? null,
      metadataOptions: structOf(params, "MetadataOptions"),
      blockDevices: structsOf(params, "BlockDeviceMapping"),
      tags,
      volumeTags,
      userDataBytes,
      launchedAtMs: this.now(),
      terminatedAtMs: null,
      stateReason: null,
      stateTransitionReason: null,
    };
    this.#instances.set(instanceId, i);
    return i;
  }

  #reservationBody(i: SimInstance): string {
    return `${el("reservationId", `r-${i.instanceId.slice(2)}`)}${el("ownerId", "123456789012")}${items("instancesSet", [instanceXml(i, this.statusOf(i))])}`;
  }

  #reservation(i: SimInstance): string {
    return this.#reservationBody(i);
  }
}
