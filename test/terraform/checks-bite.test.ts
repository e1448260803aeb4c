import { describe, expect, it } from "vitest";
import { networkAclProblems } from "./acl-checks.js";
import * as bad from "./bad-snippets.js";
import { dnsFirewallProblems } from "./dns-firewall-checks.js";
import { directSourcesProblems, egressNoneProblems } from "./egress-checks.js";
import { parseHcl, type Terraform } from "./hcl.js";
import { iamProblems, runInstancesProblems } from "./iam-checks.js";
import { launchTemplateProblems, runnerIngressProblems } from "./runner-checks.js";
import { runnerIngressToLoadBalancerProblems, runnerPathProblems } from "./runner-path-checks.js";
import {
  outputProblems,
  secretStoreProblems,
  secretVariableProblems,
  taskDefinitionProblems,
} from "./secret-checks.js";
import {
  databaseProblems,
  loadBalancerProblems,
  logGroupProblems,
  webhookIngressProblems,
} from "./service-checks.js";

type Check = (tf: Terraform) => string[];

// Each row: a snippet that breaks promises, the check, and every problem it must report.
const cases: [string, string, Check, RegExp[]][] = [
  [
    "launch template",
    bad.OPEN_LAUNCH_TEMPLATE,
    launchTemplateProblems,
    [
      /IMDSv2 not required/,
      /hop limit is not 1/,
      /not encrypted/,
      /does not terminate/,
      /always get an instance profile/,
      /public IP/,
      /not tagged mayfly:fleet/,
    ],
  ],
  [
    "runner ingress",
    bad.RUNNER_INGRESS,
    runnerIngressProblems,
    [/inline ingress/, /ssh: ingress to a runner group/, /rdp: ingress to a runner group/],
  ],
  [
    "network ACL",
    bad.LEAKY_ACL,
    networkAclProblems,
    [
      /no outbound denial of the VPC's blocks/,
      /no inbound denial of 10\.0\.0\.0\/8/,
      /no outbound denial of 100\.64\.0\.0\/10/,
      /allows before the denials/,
      /beyond ephemeral-port replies/,
    ],
  ],
  [
    "private ranges",
    bad.PRIVATE_RANGES_OPEN,
    networkAclProblems,
    [
      /no outbound denial of 172\.16\.0\.0\/12/,
      /no inbound denial of 192\.168\.0\.0\/16/,
      /no outbound denial of 192\.168\.0\.0\/16/,
      /no inbound denial of 100\.64\.0\.0\/10/,
      /deny_cgnat_out: denies 100\.64\.0\.0\/10 as rule 101, not 103/,
      /allow_early: allows before the denials/,
      /deny_vpc_out: VPC denials start at 120, not 110/,
    ],
  ],
  [
    "database",
    bad.EXPOSED_DATABASE,
    databaseProblems,
    [
      /never rotates/,
      /publicly_accessible/,
      /backups kept < 7 days/,
      /deletion protection/,
      /rds.force_ssl/,
      /db_world is not PostgreSQL from a security group/,
    ],
  ],
  [
    "load balancer",
    bad.WEAK_LOAD_BALANCER,
    loadBalancerProblems,
    [
      /is not TLS 1.3/,
      /accepts non-TLS 1.3 policies/,
      /http: does more than redirect/,
      /health check is not \/readyz/,
      /reaches the task over plain HTTP/,
      /the task does not serve HTTPS/,
    ],
  ],
  ["log group", bad.WEAK_LOAD_BALANCER, logGroupProblems, [/logs kept forever/]],
  [
    "webhook ingress",
    bad.OPEN_WEBHOOK,
    webhookIngressProblems,
    [/the default lets everyone reach \/webhook/, /does not say where GitHub's ranges are/],
  ],
  [
    "/runner/* open to others",
    bad.OPEN_RUNNER_PATH,
    runnerPathProblems,
    [
      /no fixed 403 for \/runner\/\*/,
      /no rule forwards \/runner\/\* from the runners' NAT addresses/,
      /runner_from_operators: forwards \/runner\/\* from .*var\.operator_cidrs/,
      /everything: forwards \/runner\/\* from anywhere/,
      /default action forwards \/runner\/\* from anywhere/,
    ],
  ],
  [
    "/runner/* misordered",
    bad.MISORDERED_RUNNER_PATH,
    runnerPathProblems,
    [
      /runner: forwards \/runner\/\* elsewhere than the controller's target group/,
      /runner: comes after the 403/,
      /runner_and_world: forwards \/runner\/\* from .*0\.0\.0\.0\/0/,
      /operators: forwards \/runner\/\* from .*var\.operator_cidrs/,
    ],
  ],
  [
    "runner ingress to the load balancer",
    bad.CLOSED_TO_RUNNERS,
    runnerIngressToLoadBalancerProblems,
    [/does not let the runners' NAT in on 443/],
  ],
  ["egress none", bad.EGRESS_NONE_ACCEPTED, egressNoneProblems, [/accepts "none"/]],
  [
    "egress none unexplained",
    bad.EGRESS_UNEXPLAINED,
    egressNoneProblems,
    [/refuses "none" without saying/],
  ],
  [
    "direct egress sources",
    bad.EGRESS_UNEXPLAINED,
    directSourcesProblems,
    [/does not default to an empty list/, /nothing requires runner_direct_cidrs/],
  ],
  [
    "IAM",
    bad.BROAD_IAM,
    iamProblems,
    [
      /wildcard action ec2:\*/,
      /Resource "\*" for actions that change something/,
      /TerminateInstances, ec2:RunInstances, ec2:CreateTags not held to the fleet/,
      /RunInstances without the launch template/,
      /CreateTags outside resource creation/,
      /ec2:DeleteSubnet not held/,
      /policy is not an aws_iam_policy_document/,
    ],
  ],
  [
    "launch conditions",
    bad.LOOSE_LAUNCH,
    runInstancesProblems,
    [
      /instances launch without ec2:MetadataHttpTokens = required/,
      /instances launch without a metadata hop limit <= 1/,
      /volumes launch without ec2:Encrypted = true/,
      /volumes launch under any key, not runner_volume_kms_key_arn/,
      /any image, neither a pool's AMI nor of a trusted owner/,
      /security groups other than the runner group/,
      /a key pair may be named at launch/,
      /iam:PassRole without iam:PassedToService/,
    ],
  ],
  [
    "loosened launch conditions",
    bad.LOOSENED_LAUNCH,
    runInstancesProblems,
    [
      /without ec2:MetadataHttpTokens = required/,
      /without a metadata hop limit <= 1/,
      /without ec2:Encrypted = true/,
      /iam:PassRole without iam:PassedToService/,
    ],
  ],
  [
    "DNS firewall",
    bad.OPEN_DNS_FIREWALL,
    dnsFirewallProblems,
    [
      /fail_open does not default to false/,
      /rule_group\.runner: made whatever runner_dns_firewall says/,
      /domain_list\.everything: made whatever runner_dns_firewall says/,
      /association\.runner: made whatever runner_dns_firewall says/,
      /association\.runner: not on the runners' VPC/,
      /config\.runner: fails open unless fail_open is set/,
      /everything_else: blocks everything before the allowed domains/,
    ],
  ],
  [
    "DNS allow-list",
    bad.ALLOW_ONLY_DNS_FIREWALL,
    dnsFirewallProblems,
    [
      /allowed domains without a block of everything else/,
      /no aws_route53_resolver_firewall_config/,
    ],
  ],
  [
    "outputs",
    bad.LEAKED_SECRETS,
    outputProblems,
    [/output database_url reaches a secret/, /output password reaches a secret/],
  ],
  [
    "variables",
    bad.LEAKED_SECRETS,
    secretVariableProblems,
    [
      /github_app_private_key looks secret but has a default/,
      /github_app_private_key looks secret but is not sensitive/,
    ],
  ],
  [
    "secret store",
    bad.LEAKED_SECRETS,
    secretStoreProblems,
    [/no customer KMS key/, /literal secret/],
  ],
  [
    "task definition",
    bad.LEAKED_SECRETS,
    taskDefinitionProblems,
    [
      /a secret value in environment/,
      /DATABASE_URL set in environment/,
      /GITHUB_WEBHOOK_SECRET set in environment/,
      /DATABASE_URL does not come from ECS secrets/,
      /logs do not go to a managed log group/,
    ],
  ],
];

describe("terraform checks bite", () => {
  it.each(cases)("the %s check reports an unsafe snippet", async (_, hcl, check, expected) => {
    const problems = check(await parseHcl("bad.tf", hcl));
    for (const pattern of expected) {
      expect(
        problems.some((p) => pattern.test(p)),
        `${pattern} in ${JSON.stringify(problems)}`,
      ).toBe(true);
    }
  });

  it("reports missing resources instead of passing vacuously", async () => {
    const empty = await parseHcl("empty.tf", 'variable "x" {}');
    for (const check of [
      launchTemplateProblems,
      networkAclProblems,
      databaseProblems,
      loadBalancerProblems,
      logGroupProblems,
      taskDefinitionProblems,
      runnerPathProblems,
      runnerIngressToLoadBalancerProblems,
      egressNoneProblems,
      directSourcesProblems,
      runInstancesProblems,
      dnsFirewallProblems,
      webhookIngressProblems,
    ]) {
      expect(check(empty)).not.toEqual([]);
    }
  });
});
