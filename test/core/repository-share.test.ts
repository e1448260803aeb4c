import { describe, expect, it } from "vitest";
import { atRepositoryLimit, repositoryShares } from "../../src/core/repository-share.js";

const counts = [
  { pool: "linux", repository: "acme/api", runners: 4, awaiting: 16 },
  { pool: "linux", repository: "acme/web", runners: 1, awaiting: 5 },
  { pool: "arm", repository: "acme/api", runners: 2, awaiting: 3 },
];

describe("repository shares", () => {
  it("hold a repository's queued jobs beyond what its cap leaves room for", () => {
    const [linux, arm] = repositoryShares(["linux", "arm"], counts, {
      byPool: new Map([["linux", 4]]),
    });
    expect(linux).toEqual({
      pool: "linux",
      limit: 4,
      repositories: [
        { repository: "acme/api", runners: 4, held: 16 },
        { repository: "acme/web", runners: 1, held: 2 },
      ],
    });
    // No cap on the pool: nothing is held for a repository's sake.
    expect(arm).toEqual({
      pool: "arm",
      limit: null,
      repositories: [{ repository: "acme/api", runners: 2, held: 0 }],
    });
  });

  it("take the fleet's cap for a pool without its own", () => {
    const [arm] = repositoryShares(["arm"], counts, { byPool: new Map(), fleet: 2 });
    expect(arm?.limit).toBe(2);
    expect(arm?.repositories[0]?.held).toBe(3);
  });

  it("say a repository is at its limit only at or over the cap", () => {
    const [linux] = repositoryShares(["linux"], counts, { byPool: new Map([["linux", 4]]) });
    expect(atRepositoryLimit(linux, "acme/api")).toBe(true);
    expect(atRepositoryLimit(linux, "acme/web")).toBe(false);
    expect(atRepositoryLimit(linux, "acme/new")).toBe(false);
    expect(atRepositoryLimit(undefined, "acme/api")).toBe(false);
  });
});
