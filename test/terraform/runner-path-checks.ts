import {
  type Body,
  blocks,
  expand,
  type Found,
  referencedNames,
  resources,
  type Terraform,
} from "./hcl.js";

// The paths runner VMs ask (DESIGN.md, "The assignment endpoint").
const RUNNER_PATHS = ["/runner/v1/assignment", "/runner/v1/interruption"];
// What names the runner subnets' NAT gateway addresses in an expression (locals expanded).
const NAT_ADDRESS = /aws_eip\.nat\b|aws_nat_gateway\.|data\.aws_eip\./;
// The one source besides the NAT that /runner/* may take: the operator's list for direct egress.
const DIRECT_SOURCES = "runner_direct_cidrs";

interface Rule {
  readonly at: string;
  readonly priority: number;
  readonly forwards: boolean;
  readonly targets: string[];
  /** The path_pattern values; undefined when the rule matches every path. */
  readonly paths: unknown;
  /** The source_ip values, locals expanded; undefined when the rule takes any source. */
  readonly sources: string | undefined;
  /** The source_ip values as written, for messages. */
  readonly sourcesAsWritten: string | undefined;
  readonly onlyPathCondition: boolean;
  readonly status: string | undefined;
}

/**
 * /runner/* reaches the controller only from the runner VMs' NAT addresses: a rule forwards it
 * from them to the controller's target group, a fixed 403 for the path stops everyone else,
 * and no forwarding rule (or default action) matching the path comes before that 403.
 */
export function runnerPathProblems(tf: Terraform): string[] {
  const listeners = resources(tf, "aws_lb_listener").filter((l) => l.body.protocol === "HTTPS");
  if (listeners.length === 0) return ["no HTTPS aws_lb_listener carries /runner/*"];
  const controllerGroups = resources(tf, "aws_ecs_service").flatMap(({ body }) =>
    blocks(body, "load_balancer").flatMap((lb) =>
      referencedNames(lb.target_group_arn, "aws_lb_target_group"),
    ),
  );
  return listeners.flatMap((listener) => listenerProblems(tf, listener, controllerGroups));
}

function listenerProblems(tf: Terraform, listener: Found, controllerGroups: string[]): string[] {
  const at = `${listener.path}: aws_lb_listener.${listener.name}`;
  const rules = resources(tf, "aws_lb_listener_rule")
    .filter((r) => referencedNames(r.body.listener_arn, "aws_lb_listener").includes(listener.name))
    .map((r) => ruleOf(tf, `${r.path}: aws_lb_listener_rule.${r.name}`, r.body))
    .filter((r) => mayMatchRunnerPath(r.paths));
  const denials = rules.filter((r) => !r.forwards && r.onlyPathCondition && r.status === "403");
  const deny = Math.min(...denials.map((r) => r.priority));
  const problems: string[] = [];
  if (denials.length === 0) problems.push(`${at}: no fixed 403 for /runner/* from elsewhere`);
  const fromNat = rules.filter((r) => r.forwards && natOnly(r.sources));
  if (fromNat.length === 0) {
    problems.push(`${at}: no rule forwards /runner/* from the runners' NAT addresses`);
  }
  for (const rule of fromNat) {
    if (!rule.targets.some((t) => controllerGroups.includes(t))) {
      problems.push(`${rule.at}: forwards /runner/* elsewhere than the controller's target group`);
    }
    if (!(rule.priority < deny)) problems.push(`${rule.at}: comes after the 403 for /runner/*`);
  }
  for (const rule of rules.filter((r) => r.forwards && !natOnly(r.sources))) {
    if (!(rule.priority > deny)) {
      problems.push(`${rule.at}: forwards /runner/* from ${rule.sourcesAsWritten ?? "anywhere"}`);
    }
  }
  const defaultForwards = blocks(listener.body, "default_action").some((a) => a.type === "forward");
  if (defaultForwards && denials.length === 0) {
    problems.push(`${at}: its default action forwards /runner/* from anywhere`);
  }
  return problems;
}

function ruleOf(tf: Terraform, at: string, body: Body): Rule {
  const conditions = blocks(body, "condition");
  const values = (kind: string) =>
    conditions.flatMap((c) => blocks(c, kind)).map((b) => b.values)[0];
  const sources = values("source_ip");
  const actions = blocks(body, "action");
  const forwarding = actions.filter((a) => a.type === "forward");
  return {
    at,
    priority: leadingNumber(body.priority),
    forwards: forwarding.length > 0,
    targets: forwarding.flatMap((a) => [
      ...referencedNames(a.target_group_arn, "aws_lb_target_group"),
      ...referencedNames(blocks(a, "forward"), "aws_lb_target_group"),
    ]),
    paths: values("path_pattern"),
    sources: sources === undefined ? undefined : expand(tf, sources),
    sourcesAsWritten: sources === undefined ? undefined : JSON.stringify(sources),
    onlyPathCondition: conditions.every((c) => Object.keys(c).join() === "path_pattern"),
    status: actions
      .flatMap((a) => blocks(a, "fixed_response"))
      .map((f) => String(f.status_code))[0],
  };
}

// Whether a rule's path patterns can match a runner path: an expression could be anything.
// ALB patterns: `*` is any run of characters, `?` exactly one, case-sensitive.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
function mayMatchRunnerPath(paths: unknown): boolean {
  if (paths === undefined) return true;
  if (!Array.isArray(paths) || paths.some((p) => String(p).includes("${"))) return true;
  return paths.some((pattern) => {
    const glob = String(pattern)
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    return RUNNER_PATHS.some((path) => new RegExp(`^${glob}$`).test(path));
  });
}

// The NAT's addresses, and no other source but the direct-egress list: no literal address,
// no other variable naming CIDRs (the operators', GitHub's).
function natOnly(sources: string | undefined): boolean {
  if (sources === undefined || !NAT_ADDRESS.test(sources)) return false;
  if (/\d+\.\d+\.\d+\.\d+/.test(sources)) return false;
  const cidrVariables = [...sources.matchAll(/\bvar\.(\w*cidr\w*)/g)].map((m) => m[1]);
  return cidrVariables.every((name) => name === DIRECT_SOURCES);
}

/** The load balancer's security group lets the runners' NAT addresses in on 443. */
export function runnerIngressToLoadBalancerProblems(tf: Terraform): string[] {
  const balancers = resources(tf, "aws_lb");
  if (balancers.length === 0) return ["no aws_lb for runner VMs to reach"];
  return balancers.flatMap(({ path, name, body }) => {
    const groups = referencedNames(body.security_groups, "aws_security_group");
    const admitted = resources(tf, "aws_vpc_security_group_ingress_rule").some(
      (r) =>
        referencedNames(r.body.security_group_id, "aws_security_group").some((g) =>
          groups.includes(g),
        ) &&
        leadingNumber(r.body.from_port) <= 443 &&
        leadingNumber(r.body.to_port) >= 443 &&
        NAT_ADDRESS.test(expand(tf, r.body.cidr_ipv4)),
    );
    return admitted
      ? []
      : [`${path}: aws_lb.${name}: its security group does not let the runners' NAT in on 443`];
  });
}

function leadingNumber(value: unknown): number {
  const match = /\d+/.exec(String(value));
  return match ? Number(match[0]) : Number.NaN;
}
