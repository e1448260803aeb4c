import {
  type Body,
  blocks,
  blocksWithDynamic,
  dataSources,
  expand,
  referencedNames,
  resources,
  type Terraform,
  variable,
} from "./hcl.js";

interface Statement {
  readonly at: string;
  readonly body: Body;
}

// Conditions that hold a mutating EC2 call to this fleet.
const FLEET_CONDITION = /^((aws|ec2):RequestTag|(aws|ec2):ResourceTag)\/mayfly:fleet$/;
const TEMPLATE_CONDITION = "ec2:LaunchTemplate";
const READ_ONLY = /^[a-z0-9-]+:(Describe|Get|List|BatchGet|BatchCheck)/;

/** Every statement of every aws_iam_policy_document, dynamic ones included. */
export function statements(tf: Terraform): Statement[] {
  return dataSources(tf, "aws_iam_policy_document").flatMap(({ path, name, body }) =>
    blocksWithDynamic(body, "statement").map((statement, i) => ({
      at: `${path}: ${name}[${String(statement.sid ?? i)}]`,
      body: statement,
    })),
  );
}

/**
 * No wildcard actions; "*" resources only for read-only actions; every EC2 call that changes
 * something is held to the fleet by a tag or launch-template condition (or names exact
 * resources); RunInstances needs the template, CreateTags the creating action.
 */
export function iamProblems(tf: Terraform): string[] {
  const problems = policySourceProblems(tf);
  for (const { at, body } of statements(tf)) {
    if (body.not_actions !== undefined) problems.push(`${at}: not_actions allows everything else`);
    if (!Array.isArray(body.actions)) {
      problems.push(`${at}: actions is not a literal list`);
      continue;
    }
    const actions = body.actions.map(String);
    const resourceList = Array.isArray(body.resources)
      ? body.resources.map(String)
      : [String(body.resources)];
    for (const action of actions.filter((a) => a.includes("*")))
      problems.push(`${at}: wildcard action ${action}`);
    if (resourceList.includes("*") && !actions.every((a) => READ_ONLY.test(a))) {
      problems.push(`${at}: Resource "*" for actions that change something`);
    }
    if (body.effect === "Deny") continue;
    const conditions = blocks(body, "condition").map((c) => String(c.variable));
    const mutating = actions.filter((a) => a.startsWith("ec2:") && !/^ec2:(Describe|Get)/.test(a));
    const held =
      conditions.some((c) => FLEET_CONDITION.test(c) || c === TEMPLATE_CONDITION) ||
      (Array.isArray(body.resources) && resourceList.every((r) => !r.includes("*")));
    if (mutating.length > 0 && !held)
      problems.push(`${at}: ${mutating.join(", ")} not held to the fleet`);
    if (actions.includes("ec2:RunInstances") && !conditions.includes(TEMPLATE_CONDITION)) {
      problems.push(`${at}: RunInstances without the launch template condition`);
    }
    if (actions.includes("ec2:CreateTags") && !conditions.includes("ec2:CreateAction")) {
      problems.push(`${at}: CreateTags outside resource creation`);
    }
  }
  return problems;
}

// Policies come from policy documents (whose statements the checks above read), and no
// broad AWS-managed policy is attached.
function policySourceProblems(tf: Terraform): string[] {
  const problems: string[] = [];
  for (const type of ["aws_iam_role_policy", "aws_iam_policy"]) {
    for (const { path, name, body } of resources(tf, type)) {
      if (!/^\$\{data\.aws_iam_policy_document\.\w+\.json\}$/.test(String(body.policy))) {
        problems.push(`${path}: ${type}.${name}: policy is not an aws_iam_policy_document`);
      }
    }
  }
  for (const { path, name, body } of resources(tf, "aws_iam_role")) {
    if (!/^\$\{data\.aws_iam_policy_document\.\w+\.json\}$/.test(String(body.assume_role_policy))) {
      problems.push(
        `${path}: aws_iam_role.${name}: trust policy is not an aws_iam_policy_document`,
      );
    }
  }
  for (const { path, name, body } of resources(tf, "aws_iam_role_policy_attachment")) {
    if (/FullAccess|AdministratorAccess|PowerUser/.test(String(body.policy_arn))) {
      problems.push(`${path}: ${name}: attaches a broad managed policy`);
    }
  }
  return problems;
}

interface Condition {
  readonly test: string;
  readonly variable: string;
  readonly values: string;
}

function conditionsOf(body: Body): Condition[] {
  return blocksWithDynamic(body, "condition").map((c) => ({
    test: String(c.test),
    variable: String(c.variable),
    values: JSON.stringify(c.values ?? null),
  }));
}

function has(conditions: Condition[], test: string, variable: string, values?: RegExp): boolean {
  return conditions.some(
    (c) =>
      c.test === test && c.variable === variable && (values === undefined || values.test(c.values)),
  );
}

/**
 * What AWS refuses at launch, whatever the request or the template says: an instance without
 * IMDSv2 or with more than one metadata hop, an unencrypted volume (or one under another key
 * than runner_volume_kms_key_arn), an image that is neither a pool's AMI nor of a trusted
 * owner, a security group other than the runner's, any key pair; and a role passed to
 * anything but EC2.
 */
export function runInstancesProblems(tf: Terraform): string[] {
  const problems: string[] = [];
  const launches = statements(tf).filter(
    ({ body }) =>
      body.effect !== "Deny" &&
      Array.isArray(body.actions) &&
      body.actions.map(String).includes("ec2:RunInstances"),
  );
  const covering = (kind: string) =>
    launches.filter(({ body }) => expand(tf, body.resources).includes(`${kind}`));
  if (covering(":instance/").length === 0) problems.push("no RunInstances statement for instances");
  if (covering(":volume/").length === 0) problems.push("no RunInstances statement for volumes");
  const kmsKeyVariable = variable(tf, "runner_volume_kms_key_arn") !== undefined;
  for (const { at, body } of launches) {
    const resourcesText = expand(tf, body.resources);
    const conditions = conditionsOf(body);
    if (resourcesText.includes(":instance/")) {
      if (!has(conditions, "StringEquals", "ec2:MetadataHttpTokens", /^\["required"\]$/))
        problems.push(`${at}: instances launch without ec2:MetadataHttpTokens = required`);
      if (
        !has(
          conditions,
          "NumericLessThanEquals",
          "ec2:MetadataHttpPutResponseHopLimit",
          /^\["?1"?\]$/,
        )
      )
        problems.push(`${at}: instances launch without a metadata hop limit <= 1`);
    }
    if (resourcesText.includes(":volume/")) {
      if (!has(conditions, "Bool", "ec2:Encrypted", /^\["?true"?\]$/))
        problems.push(`${at}: volumes launch without ec2:Encrypted = true`);
      if (
        kmsKeyVariable &&
        !has(
          conditions,
          "StringEquals",
          "ec2:KmsKeyId",
          /var\.runner_volume_kms_key_arn|condition\.value/,
        )
      )
        problems.push(`${at}: volumes launch under any key, not runner_volume_kms_key_arn`);
    }
    if (/:image\/[^"]*\*/.test(resourcesText) && !has(conditions, "StringEquals", "ec2:Owner"))
      problems.push(`${at}: any image, neither a pool's AMI nor of a trusted owner (ec2:Owner)`);
    const otherGroups = referencedNames(body.resources, "aws_security_group").filter(
      (name) => name !== "runner",
    );
    if (/security-group\//.test(resourcesText) || otherGroups.length > 0)
      problems.push(`${at}: security groups other than the runner group`);
    if (/key-pair/.test(resourcesText)) problems.push(`${at}: a key pair may be named at launch`);
  }
  for (const { at, body } of statements(tf)) {
    const actions = Array.isArray(body.actions) ? body.actions.map(String) : [];
    if (
      actions.includes("iam:PassRole") &&
      !has(conditionsOf(body), "StringEquals", "iam:PassedToService", /ec2\.amazonaws\.com/)
    )
      problems.push(`${at}: iam:PassRole without iam:PassedToService = ec2.amazonaws.com`);
  }
  return problems;
}
