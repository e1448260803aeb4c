import { afterEach, describe, expect, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { GitHubError } from "../../src/errors.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { memoryLogger } from "../support/fixtures.js";
import { adapterFor, collect } from "./adapter.js";

const ORG = "example-org";
const jit = (name: string, labels = ["self-hosted", "linux", "mayfly-4cpu"]) => ({
  installationId: 77,
  org: ORG,
  name,
  runnerGroupId: 1,
  labels,
});

describe("GitHub adapter: runners", () => {
  let sim: SimGitHub;
  afterEach(() => sim?.stop());

  it("registers a JIT runner with the labels asked for, and never logs its config", async () => {
    sim = await startSimGitHub();
    const { github, lines } = adapterFor(sim);
    const runner = await github.generateJitConfig(jit("mayfly-1001-1"));
    expect(runner.runnerName).toBe("mayfly-1001-1");
    expect(runner.labels).toEqual(["self-hosted", "linux", "mayfly-4cpu"]);
    expect(runner.jitConfig).toBeInstanceOf(Secret);
    const config = runner.jitConfig.reveal();
    expect(Buffer.from(config, "base64").toString()).toContain(`".runner":${runner.runnerId}`);
    expect(sim.runners().map((r) => r.id)).toEqual([runner.runnerId]);
    // Logging what the adapter returned shows no config either.
    const sink = memoryLogger();
    sink.logger.info({ runner }, "launched");
    expect(sink.lines()).toContain("[redacted]");
    expect(sink.lines()).not.toContain(config);
    expect(JSON.stringify(runner)).not.toContain(config);
    expect(lines()).not.toContain(config);
  });

  it("registers runners for queued jobs ahead of the deletions waiting for the write spacing", async () => {
    sim = await startSimGitHub();
    const { github } = adapterFor(sim, { writeSpacingMs: 100 });
    const old = [];
    for (let i = 0; i < 4; i++) old.push(await github.generateJitConfig(jit(`old-${i}`)));
    const done: string[] = [];
    // Four cleanups are queued first, then three registrations a job waits for.
    const writes = [
      ...old.map((r) => github.deleteRunner(77, ORG, r.runnerId).then(() => done.push("delete"))),
      ...[0, 1, 2].map((i) =>
        github.generateJitConfig(jit(`new-${i}`)).then(() => done.push("register")),
      ),
    ];
    await Promise.all(writes);
    // At most the deletion already let through goes before them; the rest wait behind them.
    expect(
      done.slice(0, done.lastIndexOf("register") + 1).filter((w) => w === "delete").length,
    ).toBeLessThanOrEqual(1);
    expect(
      sim
        .runners()
        .map((r) => r.name)
        .sort(),
    ).toEqual(["new-0", "new-1", "new-2"]);
  });

  it("registers at repository level when a repository is named", async () => {
    sim = await startSimGitHub();
    const { github } = adapterFor(sim);
    await github.generateJitConfig({ ...jit("repo-runner"), repository: `${ORG}/app` });
    expect(sim.requestCount("/repos/example-org/app/actions/runners/generate-jitconfig")).toBe(1);
    expect(sim.runners()[0]?.repository).toBe("example-org/app");
  });

  it("finds a registration by name on its own level only", async () => {
    sim = await startSimGitHub();
    const { github } = adapterFor(sim);
    const org = await github.generateJitConfig(jit("org-runner"));
    const repo = await github.generateJitConfig({
      ...jit("repo-runner"),
      repository: `${ORG}/app`,
    });
    await github.generateJitConfig(jit("org-runner-2"));
    expect(await github.findRunner(77, ORG, "org-runner")).toMatchObject({
      id: org.runnerId,
      name: "org-runner",
      status: "offline",
      busy: false,
    });
    expect(await github.findRunner(77, ORG, "repo-runner", `${ORG}/app`)).toMatchObject({
      id: repo.runnerId,
    });
    expect(await github.findRunner(77, ORG, "repo-runner")).toBeUndefined();
    expect(await github.findRunner(77, ORG, "org-runner", `${ORG}/app`)).toBeUndefined();
    expect(await github.findRunner(77, ORG, "nobody")).toBeUndefined();
  });

  it("mints one installation token for many calls", async () => {
    sim = await startSimGitHub();
    const { github } = adapterFor(sim);
    for (let i = 0; i < 5; i++) await github.generateJitConfig(jit(`r-${i}`));
    await collect(github.listRunners(77, ORG));
    await github.getJob(77, `${ORG}/app`, 1);
    expect(sim.tokenRequests()).toBe(1);
    expect(sim.requestCount("/app/installations/77/access_tokens")).toBe(1);
  });

  it("refuses a duplicate runner name with a 409, without retrying it", async () => {
    sim = await startSimGitHub();
    const { github } = adapterFor(sim);
    await github.generateJitConfig(jit("same"));
    const error = await github.generateJitConfig(jit("same")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubError);
    expect((error as GitHubError).status).toBe(409);
    expect(sim.requestCount("/orgs/example-org/actions/runners/generate-jitconfig")).toBe(2);
  });

  it("deletes a runner: deleted, then gone; busy while it runs a job", async () => {
    sim = await startSimGitHub();
    const { github } = adapterFor(sim);
    const idle = await github.generateJitConfig(jit("idle"));
    const busy = await github.generateJitConfig(jit("busy"));
    sim.setRunner(busy.runnerId, { status: "online", busy: true });
    expect(await github.deleteRunner(77, ORG, idle.runnerId)).toBe("deleted");
    expect(await github.deleteRunner(77, ORG, idle.runnerId)).toBe("gone");
    expect(await github.deleteRunner(77, ORG, busy.runnerId)).toBe("busy");
    expect(sim.runners().map((r) => r.name)).toEqual(["busy"]);
  });

  it("deletes a repository's runner on the repository's route only", async () => {
    sim = await startSimGitHub();
    const { github } = adapterFor(sim);
    const idle = await github.generateJitConfig({ ...jit("idle"), repository: "example-org/app" });
    const busy = await github.generateJitConfig({ ...jit("busy"), repository: "example-org/app" });
    sim.setRunner(busy.runnerId, { status: "online", busy: true });
    // The organisation's route does not know it: 404, as GitHub answers.
    expect(await github.deleteRunner(77, ORG, busy.runnerId)).toBe("gone");
    expect(await github.deleteRunner(77, ORG, busy.runnerId, "example-org/app")).toBe("busy");
    expect(await github.deleteRunner(77, ORG, idle.runnerId, "example-org/other")).toBe("gone");
    expect(await github.deleteRunner(77, ORG, idle.runnerId, "example-org/app")).toBe("deleted");
    expect(sim.runners().map((r) => r.name)).toEqual(["busy"]);
  });

  it("lists every runner across pages", async () => {
    sim = await startSimGitHub();
    const { github } = adapterFor(sim, { pageSize: 2 });
    for (let i = 0; i < 5; i++) await github.generateJitConfig(jit(`r-${i}`));
    sim.setRunner(sim.runners()[0]?.id ?? 0, { status: "online", busy: true });
    const runners = await collect(github.listRunners(77, ORG));
    expect(runners.map((r) => r.name)).toEqual(["r-0", "r-1", "r-2", "r-3", "r-4"]);
    expect(runners[0]).toMatchObject({ status: "online", busy: true, labels: jit("x").labels });
    expect(runners[1]).toMatchObject({ status: "offline", busy: false });
    expect(sim.requestCount("/orgs/example-org/actions/runners")).toBe(3);
  });

  it("fails with a GitHubError that names the status, not the token, on another org", async () => {
    sim = await startSimGitHub();
    const { github, lines } = adapterFor(sim);
    const error = await github
      .generateJitConfig({ ...jit("x"), org: "other-org" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubError);
    expect((error as GitHubError).status).toBe(403);
    expect((error as GitHubError).message).toMatch(/HTTP 403/);
    expect(`${(error as Error).message}${lines()}`).not.toMatch(/ghs_/);
  });
});
