import {
  type Body,
  blocks,
  blocksWithDynamic,
  expand,
  referencedNames,
  resources,
  type Terraform,
} from "./hcl.js";

const FLEET_TAG = "mayfly:fleet";

/** The runner launch template: IMDSv2 with one hop, encrypted disks, terminate on shutdown. */
export function launchTemplateProblems(tf: Terraform): string[] {
  const templates = resources(tf, "aws_launch_template");
  if (templates.length === 0) return ["no aws_launch_template: runner VMs would start unguarded"];
  return templates.flatMap(({ path, name, body }) => {
    const at = `${path}: aws_launch_template.${name}`;
    const problems: string[] = [];
    const metadata = blocks(body, "metadata_options")[0];
    if (metadata?.http_tokens !== "required") problems.push(`${at}: IMDSv2 not required`);
    if (metadata?.http_put_response_hop_limit !== 1)
      problems.push(`${at}: IMDS hop limit is not 1`);
    const disks = blocksWithDynamic(body, "block_device_mappings");
    if (disks.length === 0) problems.push(`${at}: no block_device_mappings for the root volume`);
    for (const disk of disks) {
      if (blocks(disk, "ebs")[0]?.encrypted !== true) {
        problems.push(`${at}: volume ${String(disk.device_name)} is not encrypted`);
      }
    }
    if (body.instance_initiated_shutdown_behavior !== "terminate") {
      problems.push(`${at}: shutdown does not terminate the VM`);
    }
    problems.push(...instanceProfileProblems(at, body));
    for (const nic of blocksWithDynamic(body, "network_interfaces")) {
      if (nic.associate_public_ip_address === true)
        problems.push(`${at}: always asks for a public IP`);
    }
    const tagged = blocks(body, "tag_specifications").some(
      (spec) => spec.resource_type === "instance" && expand(tf, spec.tags).includes(FLEET_TAG),
    );
    if (!tagged) problems.push(`${at}: instances are not tagged ${FLEET_TAG}`);
    return problems;
  });
}

// The runner VM gets no role unless the operator passes one: only a dynamic block that is
// empty when its variable is null.
function instanceProfileProblems(at: string, body: Body): string[] {
  if (blocks(body, "iam_instance_profile").length > 0) {
    return [`${at}: runner VMs always get an instance profile`];
  }
  const dynamic = (body.dynamic as Record<string, Body[]> | undefined)?.iam_instance_profile ?? [];
  return dynamic
    .filter((d) => !/var\.\w+ == null \? \[\]/.test(String(d.for_each)))
    .map(() => `${at}: the runner instance profile is not opt-in (null variable, no profile)`);
}

/** Security groups the launch templates give runner VMs. */
export function runnerSecurityGroups(tf: Terraform): string[] {
  return resources(tf, "aws_launch_template").flatMap(({ body }) => [
    ...referencedNames(body.vpc_security_group_ids, "aws_security_group"),
    ...blocksWithDynamic(body, "network_interfaces").flatMap((nic) =>
      referencedNames(nic.security_groups, "aws_security_group"),
    ),
  ]);
}

/** No inbound rule of any kind on a runner security group. */
export function runnerIngressProblems(tf: Terraform): string[] {
  const groups = new Set(runnerSecurityGroups(tf));
  if (groups.size === 0) return ["the launch template names no runner security group"];
  const problems: string[] = [];
  for (const { path, name, body } of resources(tf, "aws_security_group")) {
    if (groups.has(name) && blocksWithDynamic(body, "ingress").length > 0) {
      problems.push(`${path}: aws_security_group.${name}: inline ingress on the runner group`);
    }
  }
  const rules = [
    ...resources(tf, "aws_vpc_security_group_ingress_rule"),
    ...resources(tf, "aws_security_group_rule").filter((r) => r.body.type !== "egress"),
  ];
  for (const { path, name, body } of rules) {
    const target = referencedNames(body.security_group_id, "aws_security_group");
    if (target.some((g) => groups.has(g)))
      problems.push(`${path}: ${name}: ingress to a runner group`);
  }
  return problems;
}
