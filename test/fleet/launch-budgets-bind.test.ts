import { afterEach, describe, expect, it } from "vitest";
import { readSettings } from "../../src/config/settings.js";
import { githubFrom } from "../../src/main.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { type ControllerInWorld, controllerInWorld } from "../support/controller-in-world.js";
import { memoryLogger } from "../support/fixtures.js";

// Guards that only bind under a limit: every other suite sets its limits too loose, or its
// write spacing to 0, for speed, so removing the guard would pass them (issue 16's audit).
describe("the limits mayfly keeps to on its own", () => {
  let world: ControllerInWorld | undefined;
  let sim: SimGitHub | undefined;
  afterEach(async () => {
    await world?.stop();
    await sim?.stop();
    world = undefined;
    sim = undefined;
  });

  it("launches a burst within EC2's RunInstances bucket without one RequestLimitExceeded", async () => {
    // EC2's bucket holds 3 launches and refills 2.5 a second; the fleet file states 3 and 2 a
    // second, so the dispatcher's budget stays inside it. 12 jobs at once would take 12 tokens.
    world = await controllerInWorld({
      ec2: { throttle: { RunInstances: { capacity: 3, refillPerSecond: 2.5 } } },
      fleetYaml: `
fleet: world
network:
  vpcId: vpc-0511
  runnerCidr: 10.0.128.0/20
  availabilityZones: [eu-west-1a, eu-west-1b]
  idleSubnets: 12
limits: { maxRunners: 40, githubRequestsPerHour: 50000, ec2LaunchesPerSecond: 2, ec2LaunchBurst: 3 }
pools:
  - { name: linux, labels: [mayfly-2cpu], instanceTypes: [c7i.large], image: ami-0123456789abcdef0, maxRunners: 40 }
`,
    });
    const jobs = 12;
    await Promise.all(Array.from({ length: jobs }, () => world?.queue(100)));
    await world.allCompleted(60_000);
    const launched = world.world.ec2.instances().length;
    expect(launched).toBe(jobs);
    // Every RunInstances EC2 received started a VM: none was answered RequestLimitExceeded.
    expect(world.world.ec2.calls("RunInstances")).toBe(launched);
    // And the dispatcher claimed no more launches than the rate allows since its first claim
    // (3 at once, then 2 a second): it holds no lease or registration waiting for EC2.
    const claims = world.log
      .lines()
      .split("\n")
      .filter((l) => l.includes('"loop":"dispatcher"') && l.includes('"claimed"'))
      .map((l) => JSON.parse(l) as { time: number; claimed: number });
    expect(claims.length).toBeGreaterThan(1);
    const first = claims[0]?.time ?? 0;
    let claimed = 0;
    for (const round of claims) {
      claimed += round.claimed;
      expect(claimed).toBeLessThanOrEqual(3 + Math.floor((2 * (round.time - first)) / 1000) + 1);
    }
    expect(claimed).toBe(jobs);
  });

  it("spaces JIT registrations one second apart by default, as GitHub asks of Apps", async () => {
    sim = await startSimGitHub();
    // The settings and the adapter as `mayfly serve` builds them, no spacing configured.
    const settings = readSettings({
      GITHUB_WEBHOOK_SECRET: "s",
      GITHUB_APP_ID: String(sim.appId),
      GITHUB_APP_PRIVATE_KEY: sim.privateKey.reveal(),
      GITHUB_API_URL: sim.url,
    });
    const github = githubFrom(settings, memoryLogger().logger);
    if (github === undefined) throw new Error("no GitHub adapter from App credentials");
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        github.generateJitConfig({
          installationId: 77,
          org: "example-org",
          name: `mayfly-${1001 + i}-1`,
          runnerGroupId: 1,
          labels: ["self-hosted", "linux", "mayfly-2cpu"],
        }),
      ),
    );
    const times = sim.requestTimes("POST", /\/actions\/runners\/generate-jitconfig$/);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    // Each write starts at least 1000 ms after the previous one started; the sim stamps arrival,
    // which a loaded machine can delay by some tens of ms (the first one also waits for the
    // installation token), so 800 ms is the floor. Without the spacing the gaps are a few ms.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(800);
  });
});
