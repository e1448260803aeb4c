import { type Body, blocks, type Terraform, variable } from "./hcl.js";

/**
 * runner_egress = "none" is refused at plan time, saying why: runner VMs pull their runner
 * credential from the controller, so without a way out they would never run a job.
 */
export function egressNoneProblems(tf: Terraform): string[] {
  const egress = variable(tf, "runner_egress");
  if (egress === undefined) return ["no variable runner_egress"];
  const refusal = blocks(egress, "validation").find((v) => refusesNone(String(v.condition)));
  if (refusal === undefined) return ['variable runner_egress accepts "none"'];
  const message = String(refusal.error_message);
  return message.includes('runner_egress = "none"') && message.includes("assignment endpoint")
    ? []
    : [
        'variable runner_egress refuses "none" without saying the VMs could not fetch their credential',
      ];
}

// `var.runner_egress != "none"`, or a contains([...], var.runner_egress) whose list lacks it.
function refusesNone(condition: string): boolean {
  if (/var\.runner_egress\s*!=\s*"none"/.test(condition)) return true;
  const allowed = /^\$\{contains\(\[([^\]]*)\],\s*var\.runner_egress\)\}$/.exec(condition)?.[1];
  return allowed !== undefined && !allowed.includes('"none"');
}

/**
 * With runner_egress = "direct" the VMs' public IPs are unknown to the module: the operator
 * must name the sources /runner/* takes (runner_direct_cidrs, empty by default), and a
 * precondition refuses direct egress without them.
 */
export function directSourcesProblems(tf: Terraform): string[] {
  const sources = variable(tf, "runner_direct_cidrs");
  if (sources === undefined) return ["no variable runner_direct_cidrs for direct egress"];
  const problems: string[] = [];
  if (!(Array.isArray(sources.default) && sources.default.length === 0)) {
    problems.push("variable runner_direct_cidrs does not default to an empty list");
  }
  const required = preconditions(tf).some(
    (p) =>
      /var\.runner_egress != "direct" \|\| length\(var\.runner_direct_cidrs\) > 0/.test(
        String(p.condition),
      ) && String(p.error_message).startsWith("runner_direct_cidrs: required"),
  );
  if (!required) problems.push("nothing requires runner_direct_cidrs with direct egress");
  return problems;
}

function preconditions(tf: Terraform): Body[] {
  return tf.files.flatMap(({ json }) =>
    Object.values((json.resource ?? {}) as Record<string, Record<string, Body[]>>).flatMap(
      (byName) =>
        Object.values(byName)
          .flat()
          .flatMap((body) => blocks(body, "lifecycle").flatMap((l) => blocks(l, "precondition"))),
    ),
  );
}
