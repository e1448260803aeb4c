import { describe, expect, it } from "vitest";
import { dnsFirewallProblems } from "./dns-firewall-checks.js";
import { parseTerraformDir } from "./hcl.js";

const tf = await parseTerraformDir("terraform");

describe("terraform: the runners' DNS firewall", () => {
  it("is made only when asked for, on the VPC, failing closed, blocking all but the allow-list", () => {
    expect(dnsFirewallProblems(tf)).toEqual([]);
  });
});
