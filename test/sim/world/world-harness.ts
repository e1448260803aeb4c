import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createIdentityVerifier } from "../../../src/assignment/create-identity-verifier.js";
import { trustCertificate } from "../../../src/assignment/trusted-certificate.js";
import { Ec2Cloud } from "../../../src/cloud/ec2/ec2-cloud.js";
import { renderUserData } from "../../../src/fleet/user-data.js";
import type { SimWorld } from "../../../src/sim/world/start-sim-world.js";
import { testEc2Client } from "../../cloud/ec2-test-client.js";
import { adapterFor } from "../../github/adapter.js";

/** One delivery as the stand-in controller received it. */
export interface Received {
  readonly guid: string;
  readonly event: string;
  readonly action: string;
  readonly jobId: number;
  readonly runnerName: string | null;
  readonly conclusion: string | null;
}

export const SECRET = "it's a secret to everybody";

/**
 * A tiny webhook receiver standing in for the controller: it checks each signature (401
 * when wrong, as mayfly answers) and records what arrived. It also answers the VMs'
 * assignment requests from `assignments` (instance ID → JIT config; 204 while unknown),
 * checking each identity document against the world's certificate when given one.
 */
export async function startReceiver(secret = SECRET, identityCertificatePem?: string) {
  const received: Received[] = [];
  const listeners: ((r: Received) => void)[] = [];
  const assignments = new Map<string, string>();
  const verifier =
    identityCertificatePem === undefined
      ? undefined
      : createIdentityVerifier([trustCertificate(identityCertificatePem, { name: "world" })]);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.url === "/runner/v1/assignment") {
        const { document, signature } = JSON.parse(body.toString("utf8"));
        const check = verifier?.verifyIdentity(document, signature);
        if (check === undefined || !check.ok) return void res.writeHead(401).end();
        const jitConfig = assignments.get(check.identity.instanceId);
        if (jitConfig === undefined) return void res.writeHead(204, { "retry-after": "1" }).end();
        res.writeHead(200, { "content-type": "application/json" });
        return void res.end(JSON.stringify({ jitConfig }));
      }
      const expected = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
      const given = Buffer.from(String(req.headers["x-hub-signature-256"] ?? ""));
      if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
        res.writeHead(401).end();
        return;
      }
      const payload = JSON.parse(body.toString("utf8"));
      const r: Received = {
        guid: String(req.headers["x-github-delivery"]),
        event: String(req.headers["x-github-event"]),
        action: payload.action,
        jobId: payload.workflow_job.id,
        runnerName: payload.workflow_job.runner_name,
        conclusion: payload.workflow_job.conclusion,
      };
      received.push(r);
      res.writeHead(202).end();
      for (const l of listeners) l(r);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/webhook`,
    /** Where the VMs ask for their assignment. */
    runnerEndpoint: base,
    assignments,
    received,
    onDelivery: (l: (r: Received) => void) => listeners.push(l),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The controller's part, played with the real adapters: on `queued` (for the jobs `launchFor`
 * accepts) it registers a JIT runner and launches a VM, whose assignment is that runner.
 */
export function standInController(
  world: SimWorld,
  receiver: Awaited<ReturnType<typeof startReceiver>>,
  launchFor: (jobId: number) => boolean = () => true,
) {
  const { github } = adapterFor(world.github);
  const cloud = new Ec2Cloud({
    client: testEc2Client(world.ec2.url),
    fleet: "test",
    network: { vpcId: "vpc-0511", egress: "nat" },
  });
  const launched: { jobId: number; runnerName: string; instanceId: string }[] = [];
  const errors: unknown[] = [];
  const launch = async (jobId: number, labels: readonly string[], token = `job-${jobId}`) => {
    const runnerName = `mayfly-${jobId}-a`;
    const jit = await github.generateJitConfig({
      installationId: 77,
      org: "example-org",
      name: runnerName,
      runnerGroupId: 1,
      labels,
    });
    const vm = await cloud.launch(
      {
        pool: "linux",
        jobId,
        runnerName,
        image: "ami-0123456789abcdef0",
        instanceType: "c7i.large",
        market: "on-demand",
        subnetId: "subnet-0aaa",
        diskGiB: 20,
        userData: renderUserData(receiver.runnerEndpoint, {
          idleTimeout: 600,
          bootTimeout: 60,
          maxLifetime: 3600,
        }),
      },
      token,
    );
    receiver.assignments.set(vm.instanceId, jit.jitConfig.reveal());
    launched.push({ jobId, runnerName, instanceId: vm.instanceId });
  };
  receiver.onDelivery((r) => {
    if (r.action !== "queued" || !launchFor(r.jobId)) return;
    const job = world.jobs().find((j) => j.id === r.jobId);
    launch(r.jobId, job?.labels ?? []).catch((e: unknown) => errors.push(e));
  });
  return { launched, errors, launch };
}
