import { describe, expect, it } from "vitest";
import type { PoolShare } from "../../src/core/repository-share.js";
import type { JobListing } from "../../src/ledger/report-types.js";
import { jobsTable } from "../../src/reports/jobs-table.js";

const queued: JobListing = {
  jobId: 42,
  runId: 7,
  org: "acme",
  repository: "acme/api",
  workflowName: "CI",
  jobName: "test",
  pool: "linux",
  state: "queued",
  conclusion: null,
  queuedAt: new Date("2026-11-23T12:00:00Z"),
  startedAt: null,
  completedAt: null,
  queueSeconds: 900,
  vm: {
    runnerName: "prod-42-3",
    state: "terminated",
    instanceId: "i-3",
    instanceType: "c7i.large",
    market: "on-demand",
    availabilityZone: "eu-west-1a",
  },
  launchError: null,
  gaveUp: null,
};

describe("mayfly jobs", () => {
  it("says when mayfly gave a queued job up, and why", () => {
    const words = "gave up after 3 VMs that never ran the job";
    const table = jobsTable([{ ...queued, gaveUp: { reason: "too-many-launches", words } }]);
    expect(table.split("\n")[1]).toContain(`queued (given up: ${words})`);
  });

  it("shows control characters in names and errors as ?, so they cannot drive the terminal", () => {
    const table = jobsTable([
      {
        ...queued,
        jobName: "build\u001b[2J\u001b[31mred",
        repository: "acme/api\r\u009b",
        vm: null,
        launchError: "line\nbreak",
      },
    ]);
    const row = table.split("\n")[1] ?? "";
    expect(row).toContain("build?[2J?[31mred");
    expect(row).toContain("acme/api??");
    expect(row).toContain("(failed: line?break)");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what must not be there.
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(table.split("\n")).toHaveLength(2);
  });

  it("shows a job still being served as plainly queued", () => {
    const row = jobsTable([queued]).split("\n")[1] ?? "";
    expect(row).toContain("queued");
    expect(row).not.toContain("given up");
  });

  describe("with a per-repository cap", () => {
    const limits: PoolShare[] = [
      {
        pool: "linux",
        limit: 4,
        repositories: [
          { repository: "acme/api", runners: 4, held: 16 },
          { repository: "acme/web", runners: 1, held: 0 },
        ],
      },
      { pool: "arm", limit: null, repositories: [] },
    ];

    it("says a queued job is held while its repository has the pool's cap of runners", () => {
      const lines = jobsTable([{ ...queued, vm: null }], limits).split("\n");
      expect(lines[1]).toContain("queued (held: acme/api at 4/4 runners, maxRunnersPerRepository)");
    });

    it("does not call a job held when its repository has room, or it has a VM", () => {
      const web = jobsTable([{ ...queued, repository: "acme/web", vm: null }], limits);
      expect(web).not.toContain("held:");
      const served = {
        ...queued,
        vm: { ...(queued.vm as NonNullable<JobListing["vm"]>), state: "running" as const },
      };
      expect(jobsTable([served], limits)).not.toContain("held:");
    });

    it("sums up each pool's cap and its repositories' runners under the table", () => {
      const text = jobsTable([queued], limits);
      expect(text).toContain(
        "maxRunnersPerRepository: linux 4 (acme/api 4/4, 16 held; acme/web 1/4); arm none",
      );
    });

    it("strips control characters from repositories in the summary too", () => {
      const evil: PoolShare[] = [
        {
          pool: "linux",
          limit: 2,
          repositories: [{ repository: "acme/x\u001b[2J", runners: 1, held: 0 }],
        },
      ];
      const text = jobsTable([queued], evil);
      expect(text).toContain("acme/x?[2J 1/2");
      // biome-ignore lint/suspicious/noControlCharactersInRegex: what must not be there.
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    });

    it("adds no summary when no pool has a cap", () => {
      const text = jobsTable([queued], [{ pool: "arm", limit: null, repositories: [] }]);
      expect(text).not.toContain("maxRunnersPerRepository");
      expect(text.split("\n")).toHaveLength(2);
    });
  });
});
