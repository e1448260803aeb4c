import { describe, expect, it } from "vitest";
import { networkAclProblems } from "./acl-checks.js";
import { parseTerraformDir } from "./hcl.js";
import {
  launchTemplateProblems,
  runnerIngressProblems,
  runnerSecurityGroups,
} from "./runner-checks.js";

const tf = await parseTerraformDir("terraform");

describe("terraform: the runner VMs and their network", () => {
  it("starts runners with IMDSv2 (one hop), encrypted disks, no default role, terminate on shutdown", () => {
    expect(launchTemplateProblems(tf)).toEqual([]);
  });

  it("gives runners a security group with no inbound rule at all", () => {
    expect(runnerSecurityGroups(tf)).toEqual(["runner"]);
    expect(runnerIngressProblems(tf)).toEqual([]);
  });

  it("isolates runner subnets: every private range and the VPC denied both ways before any internet allowance", () => {
    expect(networkAclProblems(tf)).toEqual([]);
  });
});
