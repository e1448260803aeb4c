import { describe, expect, it } from "vitest";
import { parseTerraformDir } from "./hcl.js";
import { databaseProblems, loadBalancerProblems, logGroupProblems } from "./service-checks.js";

const tf = await parseTerraformDir("terraform");

describe("terraform: the controller's services", () => {
  it("keeps the ledger private, encrypted with a rotating customer key, backed up and TLS-only", () => {
    expect(databaseProblems(tf)).toEqual([]);
  });

  it("answers HTTPS with a TLS 1.3 policy only, redirects HTTP, health-checks /readyz", () => {
    expect(loadBalancerProblems(tf)).toEqual([]);
  });

  it("keeps logs for a bounded time", () => {
    expect(logGroupProblems(tf)).toEqual([]);
  });
});
