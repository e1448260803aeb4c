import { describe, expect, it } from "vitest";
import type { UsageRow } from "../../src/ledger/report-types.js";
import { usageCsv } from "../../src/reports/usage-table.js";

const row = (repo: string): UsageRow => ({
  key: { repo },
  vms: 1,
  jobs: 1,
  instanceSeconds: 60,
  jobSeconds: 50,
  wasteSeconds: 10,
  estimatedCostUsd: 0.01,
  hostedEquivalentUsd: 0.02,
  unpricedVms: 0,
  interruptedVms: 0,
});

describe("the usage CSV", () => {
  it.each([
    ["=HYPERLINK(1)", "'=HYPERLINK(1)"],
    ["+1", "'+1"],
    ["-1", "'-1"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\t=1+1", "'\t=1+1"],
    ["\r=1+1", '"\'\r=1+1"'],
    ["acme/api", "acme/api"],
  ])("keeps %j from being read as a formula", (repo, cell) => {
    const csv = usageCsv([row(repo)], ["repo"]);
    expect(csv.startsWith("repo,vms,")).toBe(true);
    expect(csv.endsWith(`\r\n${cell},1,1,60,50,10,0.01,0.02,0,0`)).toBe(true);
  });

  it("quotes commas and quotes", () => {
    expect(usageCsv([row('a,"b"')], ["repo"]).split("\r\n")[1]).toBe(
      '"a,""b""",1,1,60,50,10,0.01,0.02,0,0',
    );
  });
});
