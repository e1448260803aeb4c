import { afterEach, describe, expect, it } from "vitest";
import { appEndpoint } from "../../src/github/github-app.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { adapterFor, collect } from "./adapter.js";

describe("GitHub adapter: jobs and the delivery log", () => {
  let sim: SimGitHub;
  afterEach(() => sim?.stop());

  it("reads a job, and answers undefined for a job GitHub does not know", async () => {
    sim = await startSimGitHub();
    sim.addJob({
      id: 4242,
      repository: "example-org/app",
      status: "in_progress",
      runnerId: 9,
      runnerName: "mayfly-4242-1",
    });
    const { github } = adapterFor(sim);
    expect(await github.getJob(77, "example-org/app", 4242)).toEqual({
      id: 4242,
      status: "in_progress",
      conclusion: null,
      runnerName: "mayfly-4242-1",
    });
    expect(await github.getJob(77, "example-org/app", 4243)).toBeUndefined();
    expect(await github.getJob(77, "example-org/other", 4242)).toBeUndefined();
  });

  it("walks the delivery log newest first, across cursor pages, back to `since`", async () => {
    sim = await startSimGitHub();
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 23, 10, minute));
    for (let minute = 0; minute < 7; minute++) {
      sim.recordDelivery(
        "workflow_job",
        { action: "queued", n: minute },
        { deliveredAt: at(minute) },
      );
    }
    sim.recordDelivery(
      "ping",
      { zen: "Keep it logically awesome." },
      { deliveredAt: at(7), redelivery: true },
    );
    const { github } = adapterFor(sim, { pageSize: 3 });
    const deliveries = await collect(github.listDeliveries(at(2)));
    expect(deliveries.map((d) => d.deliveredAt.getUTCMinutes())).toEqual([7, 6, 5, 4, 3, 2]);
    expect(deliveries[0]).toMatchObject({ event: "ping", action: null, redelivery: true });
    expect(deliveries[1]).toMatchObject({
      event: "workflow_job",
      action: "queued",
      redelivery: false,
    });
    // Two full pages hold minutes 7..2; the walk stops at the first older delivery on page 3.
    expect(sim.requestCount("/app/hook/deliveries")).toBe(3);
  });

  it("fetches a delivery's payload", async () => {
    sim = await startSimGitHub();
    const recorded = sim.recordDelivery("workflow_job", {
      action: "completed",
      workflow_job: { id: 7 },
    });
    const { github } = adapterFor(sim);
    expect(await github.getDeliveryPayload(recorded.id)).toEqual({
      guid: recorded.guid,
      event: "workflow_job",
      payload: { action: "completed", workflow_job: { id: 7 } },
    });
  });

  it("stamps each listed delivery with GitHub's clock when the page was served", async () => {
    sim = await startSimGitHub();
    sim.recordDelivery("workflow_job", { action: "queued" }, { deliveredAt: new Date(0) });
    const before = Date.now();
    const [d] = await collect(adapterFor(sim).github.listDeliveries(new Date(0)));
    // The Date header counts whole seconds.
    const listedAt = d?.listedAt?.getTime() ?? 0;
    expect(listedAt).toBeGreaterThan(before - 1000);
    expect(listedAt).toBeLessThanOrEqual(Date.now());
  });

  it("counts the App's own requests apart from the installations' budget", async () => {
    sim = await startSimGitHub();
    const { github } = adapterFor(sim);
    await collect(github.listDeliveries(new Date(0)));
    await github.getJob(77, "example-org/app", 1);
    await github.getJob(77, "example-org/app", 2);
    // The delivery log and the token mint as the App; two job reads as the installation.
    expect(sim.requestCount("/app/hook/deliveries")).toBe(1);
    expect(sim.requestCount(/^\/app\/installations\/77\/access_tokens$/)).toBe(1);
    expect(github.requestsMade()).toBe(4);
    expect(github.installationRequestsMade()).toBe(2);
  });

  it("tells the App's endpoints by path, below a GitHub Enterprise Server API root too", () => {
    for (const root of ["https://api.github.com", "https://ghe.example/api/v3"]) {
      const asApp = appEndpoint(root);
      expect(asApp(`${root}/app`)).toBe(true);
      expect(asApp(`${root}/app/hook/deliveries?per_page=100`)).toBe(true);
      expect(asApp(new URL(`${root}/app/installations/7/access_tokens`))).toBe(true);
      expect(asApp(`${root}/orgs/app/actions/runners`)).toBe(false);
      expect(asApp(`${root}/apps/mayfly`)).toBe(false);
      expect(asApp(`${root}/repos/o/r/actions/jobs/1`)).toBe(false);
    }
  });

  it("keeps the budget each installation last reported, and forgets it at the reset", async () => {
    sim = await startSimGitHub({ rateLimits: { primaryLimit: 40, primaryWindowMs: 60_000 } });
    const { github } = adapterFor(sim);
    expect(github.installationBudget(new Date())).toBeUndefined();
    await github.getJob(77, "example-org/app", 1);
    await github.getJob(77, "example-org/app", 2);
    const budget = github.installationBudget(new Date());
    expect(budget).toMatchObject({ limit: 40, remaining: 38 });
    const resetAt = budget?.resetAt.getTime() ?? 0;
    expect(resetAt).toBeGreaterThan(Date.now());
    expect(resetAt).toBeLessThanOrEqual(Date.now() + 61_000);
    // The App's own requests (the delivery log) do not touch it.
    await collect(github.listDeliveries(new Date(0)));
    expect(github.installationBudget(new Date())?.remaining).toBe(38);
    expect(github.installationBudget(new Date(resetAt))).toBeUndefined();
  });
});
