import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Ec2Cloud } from "../../src/cloud/ec2/ec2-cloud.js";
import { parseFleet } from "../../src/config/load-fleet.js";
import { type LaunchDeps, launchRunner } from "../../src/fleet/launch-runner.js";
import type { GitHub } from "../../src/github/github.js";
import { OctokitGitHub } from "../../src/github/octokit-github.js";
import { BOOT_SCRIPT_PATH, STATE_DIR } from "../../src/runner-vm/render-user-data.js";
import { type SimEc2, startSimEc2 } from "../../src/sim/ec2/sim-ec2.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { testEc2Client } from "../cloud/ec2-test-client.js";
import { FAST } from "../github/adapter.js";
import {
  type Ec2FaultProxy,
  type QueryParams,
  startEc2FaultProxy,
} from "../support/ec2-fault-proxy.js";
import { jobEvent, memoryLogger } from "../support/fixtures.js";
import { type TestLedger, testLedger } from "../support/test-ledger.js";
import { vmGetsAssignment } from "../support/vm-asks.js";

// A launch registers no runner (the VM's ask does, src/assignment/), so a launch that fails
// has issued no JIT config: none can leak from it, and nothing is deregistered. What RunInstances
// carried holds no secret, and the JIT config the VM then gets appears in no log line
// (DESIGN.md: "never in user data, the database, a log, a command line or the journal").
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
const ENDPOINT = "https://mayfly.example.com";
const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;
const DELETE_RUNNER = /\/actions\/runners\/\d+$/;
// The user data's files: the boot script and the pool's settings, nothing else.
const USER_DATA_FILES = [
  BOOT_SCRIPT_PATH,
  `${STATE_DIR}/assignment-url`,
  `${STATE_DIR}/boot-timeout`,
  `${STATE_DIR}/idle-timeout`,
  `${STATE_DIR}/max-lifetime`,
].sort();

describe("a launch that fails issues no JIT config, and the one its job's VM later gets is logged nowhere", () => {
  let t: TestLedger;
  let gh: SimGitHub;
  let ec2: SimEc2;
  let proxy: Ec2FaultProxy;
  let deps: LaunchDeps;
  let log: ReturnType<typeof memoryLogger>;
  let delivery = 0;
  // Every JIT config the simulated GitHub issued, as its answers carried them.
  const issued: string[] = [];
  // The RunInstances requests the proxy saw before it was reset.
  const sentBefore: QueryParams[] = [];

  const launchOnce = async (jobId: number, pool: "x64" | "spot") => {
    await t.ledger.ingest(
      { id: `q${++delivery}`, event: "workflow_job", receivedAt: new Date() },
      jobEvent({
        jobId,
        labels: ["self-hosted", "linux", "x64", pool === "x64" ? "mayfly-4cpu" : "mayfly-spot"],
      }),
      pool,
    );
    return launchAgain(jobId, new Date());
  };
  /** Claims the job's next launch as of `at` (past its back-off) and carries it out. */
  const launchAgain = async (jobId: number, at: Date) => {
    const intents = await t.ledger.claimLaunches({
      fleet: fleet.fleet,
      now: at,
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
    sentBefore.length = 0;
    t = await testLedger("pglite", "");
    gh = await startSimGitHub();
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
      findRunner: (...args) => real.findRunner(...args),
      installationIdOf: (...args) => real.installationIdOf(...args),
      findRunnerGroup: (...args) => real.findRunnerGroup(...args),
      createRunnerGroup: (...args) => real.createRunnerGroup(...args),
      updateRunnerGroup: (...args) => real.updateRunnerGroup(...args),
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
      runnerEndpoint: ENDPOINT,
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

  /** A failed launch wrote nothing to GitHub: no JIT config issued, nothing to deregister. */
  function expectNoRegistration() {
    expect(gh.requestCount(GENERATE_JIT)).toBe(0);
    expect(issued).toEqual([]);
    expect(gh.requestTimes("DELETE", DELETE_RUNNER)).toEqual([]);
    expect(gh.runners()).toEqual([]);
  }

  /**
   * Every RunInstances request the proxy saw carried user data with only the boot script and
   * the pool's settings, the assignment URL among them: no JIT config, token or key.
   */
  function expectNoSecretInUserData() {
    const sent = [...sentBefore, ...proxy.requests("RunInstances")].map((r) => r.UserData ?? "");
    expect(sent.length).toBeGreaterThan(0);
    for (const data of sent) {
      const text = Buffer.from(data, "base64").toString("utf8");
      const doc = parse(text) as { write_files: { path: string; content: string }[] };
      expect(doc.write_files.map((f) => f.path).sort()).toEqual(USER_DATA_FILES);
      const settings = doc.write_files.filter((f) => f.path.startsWith(`${STATE_DIR}/`));
      expect(settings.find((f) => f.path.endsWith("/assignment-url"))?.content).toBe(
        `${ENDPOINT}/runner/v1/assignment`,
      );
      for (const f of settings)
        expect(f.content).not.toMatch(/jit|ghs_|ghp_|github_pat_|PRIVATE KEY|AKIA|ASIA/i);
      for (const jit of issued) expect(text).not.toContain(jit);
    }
  }

  /**
   * Faults gone, the job's next launch succeeds and its VM asks: GitHub issues the one JIT
   * config now, and neither it, its decoded JSON, its runner credentials nor an installation
   * token appears in any log line (every level, the GitHub adapter's included).
   */
  async function expectAskedConfigLoggedNowhere(jobId: number, failures: number) {
    ec2.setFault(null);
    // The proxy forgets its faults and what it saw; what the failed attempts sent is kept.
    sentBefore.push(...proxy.requests("RunInstances"));
    proxy.reset();
    const lines = () => log.lines();
    // The logs are there, and they say what failed.
    expect(lines().match(/"msg":"launch failed"/g)).toHaveLength(failures);
    // Past any back-off.
    expect(await launchAgain(jobId, new Date(Date.now() + 3_600_000))).toBe("launched");
    expect(gh.requestCount(GENERATE_JIT)).toBe(0);
    const vm = ec2.instances().find((i) => i.tags["mayfly:job"] === String(jobId));
    if (vm === undefined) throw new Error(`expected a VM for job ${jobId}`);
    const jit = await vmGetsAssignment(deps, vm.instanceId, new Date(vm.launchedAtMs));
    expect(issued).toEqual([jit]);
    expect(gh.requestCount(GENERATE_JIT)).toBe(1);
    expectNoSecretInUserData();
    const decoded = Buffer.from(jit, "base64").toString("utf8");
    const credentials = (JSON.parse(decoded) as { ".credentials": string })[".credentials"];
    expect(lines()).toContain('"msg":"runner registered for its VM"');
    for (const secret of [jit, decoded, credentials]) expect(lines()).not.toContain(secret);
    expect(gh.tokenRequests()).toBeGreaterThan(0);
    expect(lines()).not.toMatch(/ghs_/);
  }

  it("no capacity for any type in any zone: no JIT config is issued, and the one the VM later gets is logged nowhere", async () => {
    ec2.setFault({ code: "InsufficientInstanceCapacity" });
    expect(await launchOnce(2001, "x64")).toBe("failed");
    expect(await launchOnce(2002, "x64")).toBe("failed");
    // Two types in two zones, for each launch.
    expect(proxy.calls("RunInstances")).toBe(8);
    expect(log.lines()).toContain("InsufficientInstanceCapacity");
    expectNoRegistration();
    expectNoSecretInUserData();
    await expectAskedConfigLoggedNowhere(2001, 2);
  });

  it("spot, then on-demand, both without capacity: no JIT config is issued, and the one the VM later gets is logged nowhere", async () => {
    ec2.setFault({ code: "MaxSpotInstanceCountExceeded" });
    ec2.setFault({ code: "InsufficientInstanceCapacity", market: "on-demand" });
    expect(await launchOnce(2003, "spot")).toBe("failed");
    const markets = proxy
      .requests("RunInstances")
      .map((r) => r["InstanceMarketOptions.MarketType"]);
    expect(markets).toContain("spot");
    expect(markets).toContain(undefined);
    expectNoRegistration();
    expectNoSecretInUserData();
    await expectAskedConfigLoggedNowhere(2003, 1);
  });

  it("RunInstances answers 500 until the SDK gives up: no JIT config is issued, and the one the VM later gets is logged nowhere", async () => {
    proxy.fail({ action: "RunInstances", code: "InternalError" });
    expect(await launchOnce(2004, "x64")).toBe("failed");
    // The SDK's retries (3 attempts) of one request: a 500 is not a capacity answer.
    expect(proxy.calls("RunInstances")).toBe(3);
    expect(log.lines()).toContain("InternalError");
    expectNoRegistration();
    expectNoSecretInUserData();
    await expectAskedConfigLoggedNowhere(2004, 1);
  });

  it("RunInstances refuses the request: no JIT config is issued, nothing is deregistered, and the one the VM later gets is logged nowhere", async () => {
    proxy.fail({
      action: "RunInstances",
      code: "InvalidParameterValue",
      message: "Value for parameter UserData is invalid.",
    });
    expect(await launchOnce(2005, "x64")).toBe("failed");
    expect(proxy.calls("RunInstances")).toBe(1);
    expect(log.lines()).toContain("InvalidParameterValue");
    expectNoRegistration();
    expectNoSecretInUserData();
    await expectAskedConfigLoggedNowhere(2005, 1);
  });
});
