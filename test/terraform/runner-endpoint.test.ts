import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { needTool } from "../support/need-tool.js";
import { directSourcesProblems, egressNoneProblems } from "./egress-checks.js";
import { expand, local, parseTerraformDir } from "./hcl.js";
import { runnerIngressToLoadBalancerProblems, runnerPathProblems } from "./runner-path-checks.js";

const tf = await parseTerraformDir("terraform");

const hasTerraform = spawnSync("terraform", ["version"], { stdio: "ignore" }).status === 0;
const skip = !needTool({
  tool: "terraform",
  found: hasTerraform,
  suite: "terraform plan of the network variables (test/terraform/runner-endpoint.test.ts)",
  install: "https://developer.hashicorp.com/terraform/install",
});

// The network variables alone need no provider, so `terraform plan` runs their validations
// here, where providers cannot be downloaded.
function planNetworkVariables(egress: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "mayfly-tf-"));
  copyFileSync("terraform/variables-network.tf", join(dir, "variables-network.tf"));
  const run = spawnSync(
    "terraform",
    [
      "plan",
      "-input=false",
      "-no-color",
      "-var",
      'availability_zones=["eu-west-1a","eu-west-1b"]',
      "-var",
      `runner_egress=${egress}`,
    ],
    { cwd: dir, encoding: "utf8" },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}`.replace(/\s+/g, " ") };
}

describe("terraform: the runner VMs' way to the assignment endpoint", () => {
  it("forwards /runner/* to the controller only from the runners' NAT addresses, and answers 403 to anyone else", () => {
    expect(runnerPathProblems(tf)).toEqual([]);
  });

  it("takes the NAT addresses from the module's Elastic IP, or from nat_gateway_id's primary and secondary ones", () => {
    const sources = expand(tf, local(tf, "runner_source_cidrs"));
    expect(sources).toContain("aws_eip.nat[*].public_ip");
    expect(sources).toContain("data.aws_nat_gateway.runner[*].public_ip");
    expect(sources).toContain("data.aws_eip.runner_nat_secondary");
  });

  it("lets the runners' NAT addresses through the load balancer's security group on 443", () => {
    expect(runnerIngressToLoadBalancerProblems(tf)).toEqual([]);
  });

  it('refuses runner_egress = "none", saying the VMs could not fetch their credential', () => {
    expect(egressNoneProblems(tf)).toEqual([]);
  });

  it("asks for the sources of /runner/* with direct egress, and takes none by default", () => {
    expect(directSourcesProblems(tf)).toEqual([]);
  });

  it.skipIf(skip)(
    `terraform plan stops at runner_egress = "none" with that reason${skip ? " (SKIPPED: terraform is not on PATH)" : ""}`,
    () => {
      const none = planNetworkVariables("none");
      expect(none.status).not.toBe(0);
      expect(none.output).toContain(
        'runner_egress = "none": runner VMs could not reach the controller\'s assignment endpoint to fetch their runner credential.',
      );
      expect(planNetworkVariables("nat")).toMatchObject({ status: 0 });
      expect(planNetworkVariables("direct")).toMatchObject({ status: 0 });
    },
  );
});
