import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseTerraformDir } from "./hcl.js";
import { iamProblems, runInstancesProblems, statements } from "./iam-checks.js";

const tf = await parseTerraformDir("terraform");

// The EC2 calls the production adapter makes (the simulator's are not ours to grant).
function ec2CallsInSource(): Set<string> {
  const dir = "src/cloud/ec2";
  const text = readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), "utf8"))
    .join("\n");
  return new Set([...text.matchAll(/\b([A-Z]\w+)Command\b/g)].map((m) => `ec2:${m[1]}`));
}

function granted(prefix: string): Set<string> {
  return new Set(
    statements(tf)
      .flatMap((s) => (Array.isArray(s.body.actions) ? s.body.actions.map(String) : []))
      .filter((a) => a.startsWith(prefix)),
  );
}

describe("terraform: the controller's IAM", () => {
  it("holds every EC2 change to the fleet's tag or launch template, with no wildcard action", () => {
    expect(iamProblems(tf)).toEqual([]);
  });

  it("lets AWS refuse a launch without IMDSv2, one hop, encrypted disks, a pool's image, the runner group, or with a key pair", () => {
    expect(runInstancesProblems(tf)).toEqual([]);
  });

  it("grants exactly the EC2 calls src/cloud/ec2 makes, tagging at creation, but not creating the ACL Terraform owns", () => {
    const used = ec2CallsInSource();
    // The isolating ACL comes from Terraform (network.networkAclId), so mayfly never makes one.
    // Tagging at creation (TagSpecifications) needs ec2:CreateTags, held to RunInstances and
    // CreateSubnet by the ec2:CreateAction condition; mayfly never tags anything later.
    const expected = [...used, "ec2:CreateTags"]
      .filter((a) => !/^ec2:(CreateNetworkAcl|ReplaceNetworkAclEntry$)/.test(a))
      .sort();
    expect([...granted("ec2:")].sort()).toEqual(expected);
  });
});
