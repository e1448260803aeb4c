import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseFleet } from "../../src/config/load-fleet.js";
import { runnerGroupDrift } from "../../src/core/runner-group.js";
import {
  checkRunnerGroups,
  PoolRunnerGroups,
  RUNNER_GROUP_CHECK_MS,
} from "../../src/github/pool-runner-groups.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { runnerTakesJob } from "../../src/sim/world/runner-takes-job.js";
import { memoryLogger } from "../support/fixtures.js";
import { adapterFor } from "./adapter.js";

const fleet = parseFleet(
  `
fleet: grp
network: { vpcId: vpc-0511, runnerCidr: 10.0.128.0/24, availabilityZones: [eu-west-1a] }
pools:
  - name: private
    labels: [mayfly-4cpu]
    instanceTypes: [c7i.xlarge]
    image: ami-0123456789abcdef0
    maxRunners: 5
    repositories: [example-org/api, Example-Org/Web, other-org/tools]
  - name: open
    labels: [mayfly-open]
    instanceTypes: [c7i.xlarge]
    image: ami-0123456789abcdef0
    maxRunners: 5
    repositories: [example-org/site]
    publicRepositories: allow
  - { name: everyone, labels: [mayfly-any], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 5 }
  - { name: grouped, labels: [mayfly-g], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 5, runnerGroupId: 7 }
  - { name: per-repo, labels: [mayfly-r], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 5, registration: repo, repositories: [example-org/api] }
`,
  "grp.yaml",
);

describe("the pools' runner groups, kept on GitHub", () => {
  let gh: SimGitHub;
  let now: number;
  let log: ReturnType<typeof memoryLogger>;
  const groupRequests = () => gh.requestCount(/\/actions\/runner-groups/);

  beforeEach(async () => {
    gh = await startSimGitHub();
    now = 1_000_000;
    log = memoryLogger();
  });
  afterEach(() => gh.stop());

  const keeper = () =>
    new PoolRunnerGroups({
      github: adapterFor(gh).github,
      fleet: fleet.fleet,
      pools: fleet.pools,
      logger: log.logger,
      now: () => now,
    });

  it("creates the pool's group with exactly its repositories of the org, closed to public repositories", async () => {
    const groups = keeper();
    const id = await groups.groupFor(77, "example-org", "private");

    const group = gh.runnerGroup("example-org", id);
    expect(group).toMatchObject({
      name: "mayfly-grp-private",
      visibility: "selected",
      allowsPublicRepositories: false,
    });
    expect([...(group?.repositories ?? [])].sort()).toEqual(["example-org/api", "example-org/web"]);
    expect(log.lines()).toContain("runner group created for the pool");
    // GitHub now routes the pool's runners to those repositories' jobs only.
    const runner = {
      id: 1,
      name: "r",
      os: "linux",
      status: "online" as const,
      busy: false,
      labels: ["mayfly-4cpu"],
      org: "example-org",
      runnerGroupId: id,
    };
    const job = (repository: string) =>
      gh.addJob({ id: repository.length, repository, labels: ["mayfly-4cpu"] });
    expect(runnerTakesJob(runner, job("example-org/api"), group)).toBe(true);
    expect(runnerTakesJob(runner, job("example-org/other"), group)).toBe(false);
    expect(runnerTakesJob(runner, job("example-org/other"), gh.runnerGroup("example-org", 1))).toBe(
      true,
    );
  });

  it("allows public repositories in the group only when the pool does", async () => {
    const id = await keeper().groupFor(77, "example-org", "open");
    expect(gh.runnerGroup("example-org", id)?.allowsPublicRepositories).toBe(true);
  });

  it("asks GitHub again only after the check interval, and sets back a group changed there", async () => {
    const groups = keeper();
    const id = await groups.groupFor(77, "example-org", "private");
    const asked = groupRequests();
    expect(await groups.groupFor(77, "example-org", "private")).toBe(id);
    expect(groupRequests()).toBe(asked);

    const group = gh.runnerGroup("example-org", id);
    if (group === undefined) throw new Error("no group");
    group.visibility = "all";
    group.allowsPublicRepositories = true;
    group.repositories.add("example-org/intruder");
    now += RUNNER_GROUP_CHECK_MS - 1;
    await groups.groupFor(77, "example-org", "private");
    expect(group.visibility).toBe("all");

    now += 1;
    expect(await groups.groupFor(77, "example-org", "private")).toBe(id);
    expect(group).toMatchObject({ visibility: "selected", allowsPublicRepositories: false });
    expect([...group.repositories].sort()).toEqual(["example-org/api", "example-org/web"]);
    expect(log.lines()).toContain("the pool's runner group had changed on GitHub");
    expect(log.lines()).toContain("visibility is all, not selected");

    group.repositories.add("example-org/intruder");
    now += RUNNER_GROUP_CHECK_MS;
    await groups.groupFor(77, "example-org", "private");
    expect(group.repositories.has("example-org/intruder")).toBe(false);
    expect(log.lines()).toContain("admits example-org/intruder beyond the pool's repositories");
    expect(gh.runnerGroups("example-org").map((g) => g.name)).toEqual([
      "Default",
      "mayfly-grp-private",
    ]);
  });

  it("shares one lookup between concurrent registrations", async () => {
    const groups = keeper();
    const ids = await Promise.all(
      [0, 1, 2].map(() => groups.groupFor(77, "example-org", "private")),
    );
    expect(new Set(ids).size).toBe(1);
    expect(gh.runnerGroups("example-org")).toHaveLength(2);
  });

  it("leaves pools without repositories, or registered per repository, in their configured group", async () => {
    const groups = keeper();
    expect(await groups.groupFor(77, "example-org", "everyone")).toBe(1);
    expect(await groups.groupFor(77, "example-org", "grouped")).toBe(7);
    expect(await groups.groupFor(77, "example-org", "per-repo")).toBe(1);
    expect(groupRequests()).toBe(0);
  });

  it("fails the registration with a clear log when GitHub refuses the group, and serves a known group meanwhile", async () => {
    let refuse = false;
    await gh.stop();
    gh = await startSimGitHub({
      fault: (r) => (refuse && r.path.includes("runner-groups") ? 503 : undefined),
    });
    const groups = keeper();
    refuse = true;
    await expect(groups.groupFor(77, "example-org", "private")).rejects.toThrow();
    expect(log.lines()).toContain("cannot keep the pool's runner group");
    expect(log.lines()).toContain("registration: repo");

    refuse = false;
    const id = await groups.groupFor(77, "example-org", "private");
    refuse = true;
    now += RUNNER_GROUP_CHECK_MS;
    expect(await groups.groupFor(77, "example-org", "private")).toBe(id);
  });
});

describe("mayfly doctor's look at the pools' runner groups", () => {
  let gh: SimGitHub;
  beforeEach(async () => {
    gh = await startSimGitHub();
  });
  afterEach(() => gh.stop());

  it("reports a group not made yet, one in step, one changed on GitHub, and an org without the App", async () => {
    const { github } = adapterFor(gh);
    const byCheck = async () =>
      Object.fromEntries((await checkRunnerGroups(github, fleet)).map((c) => [c.check, c]));
    const name = "runner group mayfly-grp-private in example-org";

    let checks = await byCheck();
    expect(checks[name]).toMatchObject({
      status: "ok",
      detail: expect.stringContaining("not made yet"),
    });
    expect(checks["runner group mayfly-grp-private in other-org"]).toEqual({
      status: "missing",
      check: "runner group mayfly-grp-private in other-org",
      detail: "the App is not installed on other-org",
    });
    expect(Object.keys(checks).sort()).toEqual([
      "runner group mayfly-grp-open in example-org",
      name,
      "runner group mayfly-grp-private in other-org",
    ]);

    const { logger } = memoryLogger();
    const id = await new PoolRunnerGroups({
      github,
      fleet: "grp",
      pools: fleet.pools,
      logger,
    }).groupFor(77, "example-org", "private");
    expect((await byCheck())[name]).toMatchObject({ status: "ok" });

    gh.runnerGroup("example-org", id)?.repositories.add("example-org/intruder");
    checks = await byCheck();
    expect(checks[name]).toEqual({
      status: "missing",
      check: name,
      detail:
        "admits example-org/intruder beyond the pool's repositories (mayfly sets it back at the pool's next registration)",
    });
  });
});

describe("runnerGroupDrift", () => {
  const spec = { name: "g", repositories: ["o/a", "o/b"], allowsPublicRepositories: false };
  const group = {
    id: 2,
    name: "g",
    visibility: "selected" as const,
    allowsPublicRepositories: false,
    repositories: ["O/B", "o/a"],
  };

  it("finds none in a group that matches, whatever the case of the names", () => {
    expect(runnerGroupDrift(spec, group)).toEqual([]);
  });

  it("names each difference", () => {
    expect(
      runnerGroupDrift(spec, {
        ...group,
        visibility: "all",
        allowsPublicRepositories: true,
        repositories: ["o/a", "o/c"],
      }),
    ).toEqual([
      "visibility is all, not selected",
      "allows_public_repositories is true, not false",
      "admits o/c beyond the pool's repositories",
      "does not admit o/b",
    ]);
  });
});
