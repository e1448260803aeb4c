import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { freePort } from "../../src/bench/free-port.js";
import { testEc2Client } from "../cloud/ec2-test-client.js";
import {
  type Ec2FaultProxy,
  type Ec2FaultProxyOptions,
  startEc2FaultProxy,
} from "./ec2-fault-proxy.js";
import { needTool } from "./need-tool.js";

/**
 * moto_server (an independent EC2 emulator, moto 5) for the EC2 wire tests. The test command
 * cannot install it (PyPI is unreachable there), so it is used when present; a suite that
 * needs it says so and skips when it is absent, except under the test command (CI set),
 * where that is a failure.
 * https://docs.getmoto.org/en/latest/docs/server_mode.html
 */
const KNOWN_PLACES = ["/root/.pyenv/shims/moto_server", "/usr/local/bin/moto_server"];

/** The moto_server executable on PATH (or a known place), if any. */
export function findMotoServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const onPath = (env.PATH ?? "").split(delimiter).map((dir) => join(dir, "moto_server"));
  return [...onPath, ...KNOWN_PLACES].find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * moto_server's path for a suite, or undefined after saying the suite skips. Where tools are
 * required (see needTool) a missing binary throws, so the suite fails instead of passing
 * silently.
 */
export function motoServerFor(suite: string): string | undefined {
  const bin = findMotoServer();
  needTool({
    tool: "moto_server",
    found: bin !== undefined,
    suite,
    install: 'pip install "moto[server]"',
  });
  return bin;
}

export interface MotoServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  /** Kills moto_server and everything it started. */
  stop(): Promise<void>;
}

/** Starts `moto_server -H 127.0.0.1 -p PORT` in its own process group and waits until it answers. */
export async function startMotoServer(bin: string): Promise<MotoServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Detached: moto_server is a pyenv shim that execs Python, possibly via a child, so the
  // whole group is killed at the end, not just the shim.
  const child = spawn(bin, ["-H", "127.0.0.1", "-p", String(port)], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-2000);
  });
  const server: MotoServer = {
    url,
    async reset() {
      const response = await fetch(`${url}/moto-api/reset`, { method: "POST" });
      if (!response.ok) throw new Error(`moto reset answered ${response.status}`);
    },
    stop: () => killGroup(child),
  };
  try {
    await waitUntilReady(url, child, () => stderr);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function waitUntilReady(url: string, child: ChildProcess, stderr: () => string) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`moto_server exited with ${child.exitCode}: ${stderr()}`);
    }
    try {
      if ((await fetch(`${url}/moto-api/reset`, { method: "POST" })).ok) return;
    } catch {
      // Not listening yet: it takes about 1.5 s to start.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer on ${url} within 20 s: ${stderr()}`);
}

function killGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // Already gone.
  }
  return exited;
}

/** A VPC set up as the fleet file expects, in moto. */
export interface TestVpc {
  readonly vpcId: string;
  /** A subnet for test launches (10.0.0.0/24 in eu-west-1a). */
  readonly subnetId: string;
  readonly availabilityZone: string;
  /** An AMI moto knows (moto ships a fixed catalog of images). */
  readonly imageId: string;
}

/** Creates a 10.0.0.0/16 VPC with one test subnet, through a real EC2 client. */
export async function createTestVpc(client: EC2Client): Promise<TestVpc> {
  const vpc = await client.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
  const vpcId = vpc.Vpc?.VpcId;
  if (!vpcId) throw new Error("CreateVpc answered without a VPC ID");
  const availabilityZone = "eu-west-1a";
  const subnet = await client.send(
    new CreateSubnetCommand({
      VpcId: vpcId,
      CidrBlock: "10.0.0.0/24",
      AvailabilityZone: availabilityZone,
    }),
  );
  const subnetId = subnet.Subnet?.SubnetId;
  if (!subnetId) throw new Error("CreateSubnet answered without a subnet ID");
  const images = await client.send(new DescribeImagesCommand({ Owners: ["amazon"] }));
  const imageId = (images.Images ?? [])
    .map((image) => image.ImageId ?? "")
    .filter(Boolean)
    .sort()[0];
  if (!imageId) throw new Error("moto lists no Amazon images");
  return { vpcId, subnetId, availabilityZone, imageId };
}

/** moto_server with the fault proxy in front, and a fresh test VPC, for one suite. */
export interface MotoWire {
  readonly moto: MotoServer;
  readonly proxy: Ec2FaultProxy;
  readonly vpc: TestVpc;
}

/**
 * Called at a test file's top: starts moto_server and the proxy once, and before each test
 * resets moto, creates the test VPC and clears what the proxy recorded.
 */
export function motoBehindProxy(
  bin: string | undefined,
  proxyOptions?: Ec2FaultProxyOptions,
): MotoWire {
  const wire = {} as { moto: MotoServer; proxy: Ec2FaultProxy; vpc: TestVpc };
  // Without moto the suite is skipped (see motoServerFor): nothing to start.
  if (bin === undefined) return wire as MotoWire;
  beforeAll(async () => {
    wire.moto = await startMotoServer(bin);
    wire.proxy = await startEc2FaultProxy(wire.moto.url, proxyOptions);
  });
  afterAll(async () => {
    await wire.proxy?.stop();
    await wire.moto?.stop();
  });
  beforeEach(async () => {
    await wire.moto.reset();
    wire.vpc = await createTestVpc(testEc2Client(wire.moto.url));
    wire.proxy.reset();
  });
  return wire as MotoWire;
}
