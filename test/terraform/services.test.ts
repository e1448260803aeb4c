import { describe, expect, it } from "vitest";
import { parseTerraformDir } from "./hcl.js";
import {
  databaseProblems,
  loadBalancerProblems,
  logGroupProblems,
  webhookIngressProblems,
} from "./service-checks.js";

const tf = await parseTerraformDir("terraform");

describe("terraform: the controller's services", () => {
  it("keeps the ledger private, encrypted with a rotating customer key, backed up and TLS-only", () => {
    expect(databaseProblems(tf)).toEqual([]);
  });

  it("answers HTTPS with a TLS 1.3 policy only, redirects HTTP, health-checks /readyz", () => {
    expect(loadBalancerProblems(tf)).toEqual([]);
  });

  it("lets only GitHub's webhook ranges reach /webhook by default", () => {
    expect(webhookIngressProblems(tf)).toEqual([]);
  });

  it("keeps logs for a bounded time", () => {
    expect(logGroupProblems(tf)).toEqual([]);
  });
});
