import { generateKeyPairSync } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { GitHubError, httpStatusOf } from "../../src/errors.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { adapterFor, collect } from "./adapter.js";

const request = {
  installationId: 77,
  org: "example-org",
  name: "r-1",
  runnerGroupId: 1,
  labels: ["mayfly-4cpu"],
};

describe("GitHub adapter: auth, faults and rate limits", () => {
  let sim: SimGitHub;
  afterEach(() => sim?.stop());

  it("is refused with 401 when the App key is not the one GitHub knows", async () => {
    sim = await startSimGitHub();
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const { github } = adapterFor(sim, {}, new Secret(privateKey));
    const error = await github.generateJitConfig(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubError);
    expect((error as GitHubError).status).toBe(401);
    expect(httpStatusOf(error)).toBe(503);
    await expect(collect(github.listDeliveries(new Date(0)))).rejects.toMatchObject({
      status: 401,
    });
    expect(sim.tokenRequests()).toBe(0);
  });

  it("retries a request GitHub answered with a 5xx, and succeeds", async () => {
    let failures = 0;
    sim = await startSimGitHub({
      fault: ({ method, path }) =>
        method === "POST" && path.endsWith("/generate-jitconfig") && failures++ === 0
          ? 502
          : undefined,
    });
    const { github } = adapterFor(sim);
    const runner = await github.generateJitConfig(request);
    expect(runner.runnerName).toBe("r-1");
    expect(sim.requestCount("/orgs/example-org/actions/runners/generate-jitconfig")).toBe(2);
  });

  it("gives up after its retries when GitHub keeps failing", async () => {
    sim = await startSimGitHub({
      fault: ({ path }) => (path.includes("/jobs/") ? 503 : undefined),
    });
    const { github } = adapterFor(sim, { retries: 2 });
    await expect(github.getJob(77, "example-org/app", 1)).rejects.toMatchObject({ status: 503 });
    expect(sim.requestCount(/\/actions\/jobs\//)).toBe(3);
  });

  it("waits out a secondary rate limit instead of failing", async () => {
    // 5 points per 250 ms window: one write each; the second waits out retry-after (1 "second").
    sim = await startSimGitHub({ rateLimits: { secondaryPoints: 5, secondaryWindowMs: 250 } });
    const { github, lines } = adapterFor(sim, { waitUnitMs: 300 });
    await github.generateJitConfig(request);
    await github.generateJitConfig({ ...request, name: "r-2" });
    expect(sim.runners().map((r) => r.name)).toEqual(["r-1", "r-2"]);
    expect(sim.requestCount("/orgs/example-org/actions/runners/generate-jitconfig")).toBe(3);
    expect(lines()).toContain("GitHub secondary rate limit reached");
  });

  it("retries a secondary rate limit at most three times, whether GitHub answers 403 or 429", async () => {
    // One write per minute-long window: after the first registration every request is over
    // the limit, answered 403 and 429 in turn. Only the throttling plugin may retry these,
    // after their retry-after; the retry plugin's own back-off would ignore it.
    sim = await startSimGitHub({ rateLimits: { secondaryPoints: 5, secondaryWindowMs: 60_000 } });
    const { github } = adapterFor(sim, { waitUnitMs: 1 });
    await github.generateJitConfig(request);
    await expect(github.generateJitConfig({ ...request, name: "r-2" })).rejects.toBeInstanceOf(
      GitHubError,
    );
    // One request for r-1; for r-2 the first try and three retries.
    expect(sim.requestCount("/orgs/example-org/actions/runners/generate-jitconfig")).toBe(5);
  });

  it("fails fast when the hourly rate limit is spent and resets too late", async () => {
    sim = await startSimGitHub({ rateLimits: { primaryLimit: 2 } });
    const { github, lines } = adapterFor(sim);
    await github.getJob(77, "example-org/app", 1);
    await github.getJob(77, "example-org/app", 2);
    const error = await github.getJob(77, "example-org/app", 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubError);
    expect((error as GitHubError).message).toContain("API rate limit exceeded");
    expect(lines()).toContain("GitHub rate limit reached");
  });
});
