import { describe, expect, it } from "vitest";
import { demoReport, percentile } from "../../src/demo/demo-report.js";

describe("demo report", () => {
  it("takes percentiles by nearest rank", () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 95)).toBe(10);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it("prints served jobs, latencies, calls per job, VMs left and usage", () => {
    const table = demoReport({
      jobs: 4,
      served: 3,
      cancelled: 1,
      unserved: 0,
      queuedToLaunch: [1000, 2000, 3000],
      queuedToRunning: [1500, 2500, 3500],
      githubCalls: 6,
      ec2Calls: 10,
      vmsLaunched: 3,
      vmsTerminated: 3,
      vmsLeft: 0,
      stolen: 1,
      webhooksSent: 11,
      seconds: 12.34,
      usage: [
        {
          key: { repo: "example-org/web" },
          vms: 4,
          jobs: 3,
          instanceSeconds: 7200,
          jobSeconds: 5400,
          wasteSeconds: 1800,
          estimatedCostUsd: 1.2345,
          hostedEquivalentUsd: 0.54,
          unpricedVms: 0,
          interruptedVms: 0,
        },
      ],
    });
    expect(table).toContain("4 (3 served, 1 cancelled, 0 unserved)");
    expect(table).toContain("p50 2.00 s, p95 3.00 s");
    expect(table).toMatch(/GitHub calls per job\s+1\.5/);
    expect(table).toMatch(/EC2 calls per job\s+2\.5/);
    expect(table).toContain("3 launched, 3 terminated, 0 left running");
    // repo, VMs, jobs, VM hours, job hours, waste %, EC2 USD, GitHub-hosted USD, interrupted
    expect(table).toMatch(/example-org\/web\s+4\s+3\s+2\.00\s+1\.50\s+25\s+1\.23\s+0\.54\s+0/);
    expect(table).toMatch(/total\s+4\s+3\s+2\.00/);
  });
});
