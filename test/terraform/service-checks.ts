import {
  blocks,
  literalOrDefault,
  local,
  referencedNames,
  resources,
  type Terraform,
  variable,
} from "./hcl.js";

/** The ledger: encrypted with a rotating customer key, private, backed up, TLS only. */
export function databaseProblems(tf: Terraform): string[] {
  const databases = resources(tf, "aws_db_instance");
  if (databases.length === 0) return ["no aws_db_instance for the ledger"];
  return databases.flatMap(({ path, name, body }) => {
    const at = `${path}: aws_db_instance.${name}`;
    const problems: string[] = [];
    if (body.storage_encrypted !== true) problems.push(`${at}: storage not encrypted`);
    const keys = referencedNames(body.kms_key_id, "aws_kms_key");
    if (keys.length === 0) problems.push(`${at}: not encrypted with a customer KMS key`);
    for (const key of resources(tf, "aws_kms_key").filter((k) => keys.includes(k.name))) {
      if (key.body.enable_key_rotation !== true)
        problems.push(`${at}: key ${key.name} never rotates`);
    }
    if (body.publicly_accessible !== false)
      problems.push(`${at}: publicly_accessible is not false`);
    const backups = literalOrDefault(tf, body.backup_retention_period);
    if (!(typeof backups === "number" && backups >= 7))
      problems.push(`${at}: backups kept < 7 days`);
    if (literalOrDefault(tf, body.deletion_protection) !== true) {
      problems.push(`${at}: deletion protection is not on by default`);
    }
    const groups = referencedNames(body.parameter_group_name, "aws_db_parameter_group");
    const forcesTls = resources(tf, "aws_db_parameter_group")
      .filter((g) => groups.includes(g.name))
      .some((g) =>
        blocks(g.body, "parameter").some(
          (p) => p.name === "rds.force_ssl" && String(p.value) === "1",
        ),
      );
    if (!forcesTls) problems.push(`${at}: no parameter group with rds.force_ssl = 1`);
    problems.push(
      ...databaseIngressProblems(
        tf,
        at,
        referencedNames(body.vpc_security_group_ids, "aws_security_group"),
      ),
    );
    return problems;
  });
}

// PostgreSQL only, and only from other security groups (the controller's), never a CIDR.
function databaseIngressProblems(tf: Terraform, at: string, groups: string[]): string[] {
  if (groups.length === 0) return [`${at}: no security group of its own`];
  return resources(tf, "aws_vpc_security_group_ingress_rule")
    .filter((r) =>
      referencedNames(r.body.security_group_id, "aws_security_group").some((g) =>
        groups.includes(g),
      ),
    )
    .filter(
      (r) =>
        r.body.from_port !== 5432 ||
        r.body.to_port !== 5432 ||
        !r.body.referenced_security_group_id,
    )
    .map((r) => `${at}: ingress rule ${r.name} is not PostgreSQL from a security group`);
}

/** HTTPS with a TLS 1.3 policy; HTTP only redirects; health checks on /readyz. */
export function loadBalancerProblems(tf: Terraform): string[] {
  const listeners = resources(tf, "aws_lb_listener");
  const https = listeners.filter((l) => l.body.protocol === "HTTPS");
  const problems: string[] = https.length === 0 ? ["no HTTPS aws_lb_listener"] : [];
  for (const { path, name, body } of https) {
    const policy = literalOrDefault(tf, body.ssl_policy);
    if (!String(policy).startsWith("ELBSecurityPolicy-TLS13-")) {
      problems.push(
        `${path}: aws_lb_listener.${name}: ssl_policy ${String(policy)} is not TLS 1.3`,
      );
    }
    const policyVar = /^\$\{var\.(\w+)\}$/.exec(String(body.ssl_policy))?.[1];
    const guarded = blocks(variable(tf, policyVar ?? ""), "validation").some((v) =>
      String(v.condition).includes("ELBSecurityPolicy-TLS13-"),
    );
    if (policyVar && !guarded)
      problems.push(`${path}: var.${policyVar} accepts non-TLS 1.3 policies`);
  }
  for (const { path, name, body } of listeners.filter((l) => l.body.protocol !== "HTTPS")) {
    const redirects = blocks(body, "default_action").every(
      (a) => a.type === "redirect" && blocks(a, "redirect")[0]?.protocol === "HTTPS",
    );
    const ruled = resources(tf, "aws_lb_listener_rule").some((r) =>
      referencedNames(r.body.listener_arn, "aws_lb_listener").includes(name),
    );
    if (!redirects || ruled)
      problems.push(`${path}: aws_lb_listener.${name}: does more than redirect to HTTPS`);
  }
  for (const { path, name, body } of resources(tf, "aws_lb_target_group")) {
    const health = blocks(body, "health_check")[0];
    if (health?.path !== "/readyz") {
      problems.push(`${path}: aws_lb_target_group.${name}: health check is not /readyz`);
    }
    // Encrypted inside the VPC too: the task serves HTTPS (MAYFLY_TLS).
    if (body.protocol !== "HTTPS" || health?.protocol !== "HTTPS") {
      problems.push(
        `${path}: aws_lb_target_group.${name}: the load balancer reaches the task over plain HTTP`,
      );
    }
  }
  const environment = local(tf, "task_environment") as Record<string, unknown> | undefined;
  if (environment !== undefined && environment.MAYFLY_TLS !== "self-signed") {
    problems.push("local.task_environment: the task does not serve HTTPS (MAYFLY_TLS)");
  }
  return problems;
}

/** Every log group has a bounded retention. */
export function logGroupProblems(tf: Terraform): string[] {
  const groups = resources(tf, "aws_cloudwatch_log_group");
  if (groups.length === 0) return ["no aws_cloudwatch_log_group for the controller"];
  return groups
    .filter(({ body }) => {
      const days = literalOrDefault(tf, body.retention_in_days);
      return !(typeof days === "number" && days > 0);
    })
    .map(({ path, name }) => `${path}: aws_cloudwatch_log_group.${name}: logs kept forever`);
}

/**
 * /webhook is open to GitHub's webhook senders by default, not to everyone, and the variable
 * says where their ranges come from.
 */
export function webhookIngressProblems(tf: Terraform): string[] {
  const ingress = variable(tf, "webhook_ingress_cidrs");
  if (ingress === undefined) return ["no variable webhook_ingress_cidrs"];
  const problems: string[] = [];
  const defaults = Array.isArray(ingress.default) ? ingress.default.map(String) : [];
  if (defaults.length === 0)
    problems.push("webhook_ingress_cidrs: no default list of GitHub's ranges");
  if (defaults.some((c) => c.endsWith("/0"))) {
    problems.push("webhook_ingress_cidrs: the default lets everyone reach /webhook");
  }
  if (!String(ingress.description).includes("https://api.github.com/meta")) {
    problems.push("webhook_ingress_cidrs: the description does not say where GitHub's ranges are");
  }
  return problems;
}
