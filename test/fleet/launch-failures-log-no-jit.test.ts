import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Ec2Cloud } from "../../src/cloud/ec2/ec2-cloud.js";
import { parseFleet } from "../../src/config/load-fleet.js";
import { type LaunchDeps, launchRunner } from "../../src/fleet/launch-runner.js";
import type { GitHub } from "../../src/github/github.js";
import { OctokitGitHub } from "../../src/github/octokit-github.js";
import { type SimEc2, startSimEc2 } from "../../src/sim/ec2/sim-ec2.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { testEc2Client } from "../cloud/ec2-test-client.js";
import { FAST } from "../github/adapter.js";
import { type Ec2FaultProxy, startEc2FaultProxy } from "../support/ec2-fault-proxy.js";
import { jobEvent, memoryLogger } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";

// Launches that fail after GitHub issued their JIT config: the config, its credentials and
// the user data that carried it must appear in no log line (README: "The JIT config lives
// only in memory and in the VM's user data: never in the database, never in a log").
const fleet = parseFleet(
  `
fleet: test
network: { vpcId: vpc-0abc, runnerCidr: 10.0.128.0/17, availabilityZones: [eu-west-1a, eu-west-1b] }
pools:
  - { name: x64, labels: [mayfly-4cpu], instanceTypes: [c7i.xlarge, c6i.xlarge], image: ami-0123456789abcdef0, maxRunners: 10 }
  - { name: spot, labels: [mayfly-spot], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 10, market: spot-then-on-demand }
`,
  "test.yaml",
);
const SUBNETS = { "subnet-a1": "eu-west-1a", "subnet-b1": "eu-west-1b" };
const DELETE_RUNNER = /^\/orgs\/[^/]+\/actions\/runners\/\d+$/;

describe("launches that fail after their JIT config was issued log no JIT config", () => {
  let t: TestLedger;
  let gh: SimGitHub;
  let ec2: SimEc2;
  let proxy: Ec2FaultProxy;
  let deps: LaunchDeps;
  let log: ReturnType<typeof memoryLogger>;
  let githubDown = false;
  let delivery = 0;
  // Every JIT config the simulated GitHub issued, as its answers carried them.
  const issued: string[] = [];

  const launchOnce = async (jobId: number, pool: "x64" | "spot") => {
    await t.ledger.ingest(
      { id: `q${++delivery}`, event: "workflow_job", receivedAt: new Date() },
      jobEvent({
        jobId,
        labels: ["self-hosted", "linux", "x64", pool === "x64" ? "mayfly-4cpu" : "mayfly-spot"],
      }),
      pool,
    );
    const intents = await t.ledger.claimLaunches({
      fleet: fleet.fleet,
      now: new Date(),
      budget: 10,
      fleetMax: 10,
      maxByPool: new Map(fleet.pools.map((p) => [p.name, p.maxRunners])),
      maxLaunchesPerJob: 3,
    });
    const intent = intents.find((i) => i.jobId === jobId);
    if (!intent) throw new Error(`expected a launch for job ${jobId}`);
    return launchRunner(intent, deps);
  };

  beforeEach(async () => {
    issued.length = 0;
    githubDown = false;
    t = await testLedger("pglite", "");
    gh = await startSimGitHub({
      // While githubDown, GitHub answers 500 to deregistrations (the launch's undo).
      fault: ({ method, path }) =>
        githubDown && method === "DELETE" && DELETE_RUNNER.test(path) ? 500 : undefined,
    });
    ec2 = await startSimEc2({ pendingMs: 0, shuttingDownMs: 0, subnets: SUBNETS });
    // The proxy records what the SDK sent (the user data included) and injects EC2 errors.
    proxy = await startEc2FaultProxy(ec2.url);
    // Everything at every level, from mayfly's code and from the GitHub adapter, in memory.
    log = memoryLogger("trace");
    const real = new OctokitGitHub({
      appId: gh.appId,
      privateKey: gh.privateKey,
      baseUrl: gh.url,
      logger: log.logger,
      tuning: FAST,
    });
    const github: GitHub = {
      requestsMade: () => real.requestsMade(),
      installationRequestsMade: () => real.installationRequestsMade(),
      installationBudget: (now) => real.installationBudget(now),
      rateLimitsMet: () => real.rateLimitsMet(),
      generateJitConfig: async (req) => {
        const runner = await real.generateJitConfig(req);
        issued.push(runner.jitConfig.reveal());
        return runner;
      },
      deleteRunner: (...args) => real.deleteRunner(...args),
      listRunners: (...args) => real.listRunners(...args),
      getJob: (...args) => real.getJob(...args),
      listDeliveries: (...args) => real.listDeliveries(...args),
      getDeliveryPayload: (...args) => real.getDeliveryPayload(...args),
    };
    deps = {
      ledger: t.ledger,
      github,
      cloud: new Ec2Cloud({
        client: testEc2Client(proxy.url),
        fleet: fleet.fleet,
        network: fleet.network,
      }),
      fleet,
      logger: log.logger,
      now: () => new Date(),
      random: () => 0,
    };
    await t.ledger.addSubnets(
      Object.entries(SUBNETS).map(([subnetId, availabilityZone], i) => ({
        subnetId,
        availabilityZone,
        cidr: `10.0.128.${i * 16}/28`,
      })),
    );
  });
  afterEach(async () => {
    await proxy.stop();
    await gh.stop();
    await ec2.stop();
    await t.close();
  });

  /**
   * What must not be in the logs: each JIT config GitHub issued, its decoded JSON and the
   * runner credentials in it, and the user data (base64, as RunInstances sent it, and
   * decoded) of every attempt.
   */
  function secrets(): string[] {
    // Every config GitHub issued went through the recorder.
    expect(issued).toHaveLength(gh.requestCount(/generate-jitconfig$/));
    const fromJit = issued.flatMap((jit) => {
      const decoded = Buffer.from(jit, "base64").toString("utf8");
      const credentials = (JSON.parse(decoded) as { ".credentials": string })[".credentials"];
      return [jit, decoded, credentials];
    });
    const userData = proxy.requests("RunInstances").map((r) => r.UserData ?? "");
    expect(userData.length).toBeGreaterThan(0);
    for (const data of userData) {
      const text = Buffer.from(data, "base64").toString("utf8");
      // The user data as sent holds the JIT config: these are the secrets' carriers.
      expect(issued.some((jit) => text.includes(jit))).toBe(true);
    }
    return [
      ...fromJit,
      ...userData,
      ...userData.map((d) => Buffer.from(d, "base64").toString("utf8")),
    ];
  }

  function expectNoSecretLogged(failures: number) {
    const lines = log.lines();
    // The logs are there, and they say what failed.
    expect(lines.match(/"msg":"launch failed"/g)).toHaveLength(failures);
    for (const secret of secrets()) expect(lines).not.toContain(secret);
    // Installation tokens were minted for these launches; none is logged either.
    expect(gh.tokenRequests()).toBeGreaterThan(0);
    expect(lines).not.toMatch(/ghs_/);
  }

  it("no capacity for any type in any zone: the runner is deregistered, and no log holds its JIT config", async () => {
    ec2.setFault({ code: "InsufficientInstanceCapacity" });
    expect(await launchOnce(2001, "x64")).toBe("failed");
    expect(await launchOnce(2002, "x64")).toBe("failed");
    // Two types in two zones, for each launch.
    expect(proxy.calls("RunInstances")).toBe(8);
    expect(issued).toHaveLength(2);
    expect(gh.runners()).toEqual([]);
    expect(log.lines()).toContain("InsufficientInstanceCapacity");
    expectNoSecretLogged(2);
  });

  it("spot, then on-demand, both without capacity: no log holds the JIT config", async () => {
    ec2.setFault({ code: "MaxSpotInstanceCountExceeded" });
    ec2.setFault({ code: "InsufficientInstanceCapacity", market: "on-demand" });
    expect(await launchOnce(2003, "spot")).toBe("failed");
    expect(proxy.requests("RunInstances").some((r) => r["InstanceMarketOptions.MarketType"])).toBe(
      true,
    );
    expect(gh.runners()).toEqual([]);
    expectNoSecretLogged(1);
  });

  it("RunInstances answers 500 until the SDK gives up: the runner is deregistered, and no log holds its JIT config", async () => {
    proxy.fail({ action: "RunInstances", code: "InternalError" });
    expect(await launchOnce(2004, "x64")).toBe("failed");
    // The SDK's retries (3 attempts) of one request: a 500 is not a capacity answer.
    expect(proxy.calls("RunInstances")).toBe(3);
    expect(gh.runners()).toEqual([]);
    expect(log.lines()).toContain("InternalError");
    expectNoSecretLogged(1);
  });

  it("RunInstances refuses the request and GitHub then fails the deregistration: no log holds the JIT config", async () => {
    proxy.fail({
      action: "RunInstances",
      code: "InvalidParameterValue",
      message: "Value for parameter UserData is invalid.",
    });
    githubDown = true;
    expect(await launchOnce(2005, "x64")).toBe("failed");
    // The registration stays for the reconciler; both failures are logged.
    expect(gh.runners()).toHaveLength(1);
    expect(log.lines()).toContain('"msg":"could not deregister the runner of a failed launch"');
    expect(log.lines()).toContain("InvalidParameterValue");
    expectNoSecretLogged(1);
  });
});
