import { createHmac } from "node:crypto";
import { Writable } from "node:stream";
import type { FleetConfig } from "../../src/config/fleet-schema.js";
import { parseFleet } from "../../src/config/load-fleet.js";
import type { JobEvent } from "../../src/core/job.js";
import { createLogger, type Logger } from "../../src/log/logger.js";

/** A fleet whose pools serve the labels of @octokit/webhooks-examples' workflow_job payloads. */
export const TEST_FLEET_YAML = `
fleet: test
network:
  vpcId: vpc-0abc
  runnerCidr: 10.0.128.0/17
  availabilityZones: [eu-west-1a]
pools:
  - name: linux-4cpu
    labels: [mayfly-4cpu]
    instanceTypes: [c7i.xlarge]
    image: ami-0123456789abcdef0
    maxRunners: 10
  - name: gpu
    labels: [gpu, db-app, dc-03]
    instanceTypes: [g5.xlarge]
    image: ami-0123456789abcdef0
    maxRunners: 2
  - name: hosted-lookalike
    labels: [ubuntu-latest]
    instanceTypes: [c7i.large]
    image: ami-0123456789abcdef0
    maxRunners: 5
  - name: k8s
    labels: [k8s]
    instanceTypes: [c7i.large]
    image: ami-0123456789abcdef0
    maxRunners: 5
`;

export function testFleet(): FleetConfig {
  return parseFleet(TEST_FLEET_YAML, "test-fleet.yaml");
}

/** The signature GitHub would send for a body. */
export function sign(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

const SHA = "0123456789abcdef0123456789abcdef01234567";

/** A job event with sensible values; override what the test is about. */
export function jobEvent(overrides: Partial<JobEvent> = {}): JobEvent {
  return {
    action: "queued",
    jobId: 1001,
    runId: 501,
    runAttempt: 1,
    installationId: 77,
    org: "example-org",
    repository: "example-org/app",
    workflowName: "CI",
    jobName: "build",
    headBranch: "main",
    headSha: SHA,
    labels: ["self-hosted", "linux", "x64", "mayfly-4cpu"],
    createdAt: new Date("2026-11-23T10:00:00Z"),
    startedAt: null,
    completedAt: null,
    conclusion: null,
    runnerId: null,
    runnerName: null,
    ...overrides,
  };
}

/** A logger that writes into memory, so tests can read what was logged. */
export function memoryLogger(level = "debug"): { logger: Logger; lines: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level, destination }), lines: () => chunks.join("") };
}
