import { describe, expect, it } from "vitest";
import { choosePool, type PoolLabels } from "../../src/core/pool-choice.js";

const pool = (name: string, labels: string[], extra: Partial<PoolLabels> = {}): PoolLabels => ({
  name,
  labels,
  architecture: "x64",
  acceptDefaultLabelsOnly: false,
  ...extra,
});

const pools: PoolLabels[] = [
  pool("big", ["mayfly-8cpu", "docker"]),
  pool("small", ["mayfly-2cpu"]),
  pool("docker", ["docker"]),
  pool("arm", ["mayfly-arm"], { architecture: "arm64" }),
  pool("private", ["secret-sauce"], { repositories: ["acme/vault"] }),
];

const cases: [string, string[], string | undefined, string?][] = [
  ["the pool whose label the job names", ["self-hosted", "linux", "x64", "mayfly-2cpu"], "small"],
  ["labels case-insensitively", ["Self-Hosted", "Linux", "X64", "MAYFLY-2CPU"], "small"],
  ["a job that names only the pool label", ["mayfly-2cpu"], "small"],
  [
    "ignoring the binding label of the run",
    ["self-hosted", "mayfly-2cpu", "mayfly-run-123456"],
    "small",
  ],
  ["the pool with fewest labels when several match", ["docker"], "docker"],
  ["a subset of a pool's labels", ["mayfly-8cpu"], "big"],
  ["the architecture as a default label", ["self-hosted", "arm64", "mayfly-arm"], "arm"],
  ["no pool for the wrong architecture", ["self-hosted", "x64", "mayfly-arm"], undefined],
  ["no pool for a label no pool has", ["mayfly-2cpu", "gpu"], undefined],
  ["no pool for self-hosted alone", ["self-hosted"], undefined],
  ["no pool for default labels only", ["self-hosted", "linux", "x64"], undefined],
  ["no pool for a GitHub-hosted label", ["ubuntu-latest"], undefined],
  ["no pool for a binding label alone", ["mayfly-run-42"], undefined],
  ["no pool for no labels", [], undefined],
  ["an allow-listed repository's pool", ["secret-sauce"], "private", "Acme/Vault"],
  ["no pool for a repository outside the allow-list", ["secret-sauce"], undefined, "acme/other"],
];

describe("pool choice", () => {
  it.each(cases)("chooses %s", (_, labels, expected, repository = "acme/app") => {
    expect(choosePool(labels, repository, pools, "mayfly-run-")?.name).toBe(expected);
  });

  it("serves default-label-only jobs from a pool that opts in", () => {
    const withCatchAll = [
      ...pools,
      pool("catch-all", ["mayfly-any"], { acceptDefaultLabelsOnly: true }),
    ];
    expect(
      choosePool(["self-hosted", "linux"], "acme/app", withCatchAll, "mayfly-run-")?.name,
    ).toBe("catch-all");
  });

  it("breaks a tie in label count by the order of the file", () => {
    const tied = [pool("first", ["a", "x"]), pool("second", ["a", "y"])];
    expect(choosePool(["a"], "acme/app", tied, "mayfly-run-")?.name).toBe("first");
  });

  it("compares the binding prefix case-insensitively", () => {
    expect(
      choosePool(["MAYFLY-RUN-9", "mayfly-2cpu"], "acme/app", pools, "mayfly-run-")?.name,
    ).toBe("small");
  });
});

describe("choosePool for a public repository", () => {
  const open = pool("open", ["mayfly-2cpu"], { publicRepositories: "allow" });
  const closed = pool("closed", ["mayfly-2cpu"]);
  it("serves it only from a pool that allows public repositories", () => {
    expect(choosePool(["mayfly-2cpu"], "acme/site", [closed], "mayfly-run-", true)).toBeUndefined();
    expect(
      choosePool(["mayfly-2cpu"], "acme/site", [closed, open], "mayfly-run-", true)?.name,
    ).toBe("open");
    expect(
      choosePool(
        ["mayfly-2cpu"],
        "acme/site",
        [pool("deny", ["mayfly-2cpu"], { publicRepositories: "deny" })],
        "mayfly-run-",
        true,
      ),
    ).toBeUndefined();
  });
  it("leaves private repositories' jobs as they were", () => {
    expect(
      choosePool(["mayfly-2cpu"], "acme/site", [closed, open], "mayfly-run-", false)?.name,
    ).toBe("closed");
  });
});
