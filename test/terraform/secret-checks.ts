import { expand, resources, singles, type Terraform } from "./hcl.js";

// What a secret value looks like in an expression (after locals are expanded).
const SECRET_VALUE = /aws_secretsmanager_secret_version|random_password|secret_string|\.password\b/;
// Variable names that look like they hold a secret; *_arn, *_id and *_name only point at one.
const SECRET_NAME = /key|secret|token|password/i;
const REFERENCE_NAME = /_(arn|arns|id|ids|name|names)$/;
// Environment variable names that hold secrets in mayfly's settings.
const SECRET_ENV = /SECRET|TOKEN|PASSWORD|PRIVATE_KEY|DATABASE_URL/;

/** Outputs never reach a secret value, directly, through locals or via a sensitive variable. */
export function outputProblems(tf: Terraform): string[] {
  const sensitive = singles(tf, "variable")
    .filter((v) => v.body.sensitive === true)
    .map((v) => v.name);
  return singles(tf, "output").flatMap(({ path, name, body }) => {
    const value = expand(tf, body.value);
    const viaVariable = sensitive.filter((v) => new RegExp(`\\bvar\\.${v}\\b`).test(value));
    return SECRET_VALUE.test(value) || viaVariable.length > 0
      ? [`${path}: output ${name} reaches a secret value`]
      : [];
  });
}

/** A variable that looks like a secret has no default and is marked sensitive. */
export function secretVariableProblems(tf: Terraform): string[] {
  return singles(tf, "variable")
    .filter(({ name }) => SECRET_NAME.test(name) && !REFERENCE_NAME.test(name))
    .flatMap(({ path, name, body }) => [
      ...("default" in body ? [`${path}: variable ${name} looks secret but has a default`] : []),
      ...(body.sensitive === true
        ? []
        : [`${path}: variable ${name} looks secret but is not sensitive`]),
    ]);
}

/** Secrets are KMS-encrypted containers; no secret value is written in the code. */
export function secretStoreProblems(tf: Terraform): string[] {
  const problems = resources(tf, "aws_secretsmanager_secret")
    .filter((s) => !s.body.kms_key_id)
    .map((s) => `${s.path}: aws_secretsmanager_secret.${s.name}: no customer KMS key`);
  for (const { path, name, body } of resources(tf, "aws_secretsmanager_secret_version")) {
    if (typeof body.secret_string === "string" && !body.secret_string.includes("${")) {
      problems.push(`${path}: aws_secretsmanager_secret_version.${name}: literal secret in code`);
    }
  }
  return problems;
}

/**
 * The controller's secrets reach it through ECS `secrets` (valueFrom), never `environment`;
 * its logs go to a CloudWatch log group.
 */
export function taskDefinitionProblems(tf: Terraform): string[] {
  const tasks = resources(tf, "aws_ecs_task_definition");
  if (tasks.length === 0) return ["no aws_ecs_task_definition for the controller"];
  return tasks.flatMap(({ path, name, body }) => {
    const at = `${path}: aws_ecs_task_definition.${name}`;
    const text = expand(tf, body.container_definitions);
    const problems: string[] = [];
    for (const env of segments(text, "environment")) {
      if (SECRET_VALUE.test(env) || /aws_secretsmanager_secret\./.test(env)) {
        problems.push(`${at}: a secret value in environment`);
      }
      const names = [...env.matchAll(/"([A-Z][A-Z0-9_]*)"\s*:|name\s*=\s*"([A-Z][A-Z0-9_]*)"/g)];
      for (const n of names.map((m) => m[1] ?? m[2]).filter((n) => SECRET_ENV.test(n ?? ""))) {
        problems.push(`${at}: ${n} set in environment instead of secrets`);
      }
    }
    const secrets = segments(text, "secrets").join("\n");
    for (const needed of ["GITHUB_WEBHOOK_SECRET", "DATABASE_URL"]) {
      if (!secrets.includes(needed) || !secrets.includes("valueFrom")) {
        problems.push(`${at}: ${needed} does not come from ECS secrets`);
      }
    }
    if (!/awslogs-group\s*=\s*aws_cloudwatch_log_group\./.test(text)) {
      problems.push(`${at}: logs do not go to a managed log group`);
    }
    return problems;
  });
}

/** The bracketed value after each `key =` in an expression's text. */
function segments(text: string, key: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(new RegExp(`\\b${key}\\s*=\\s*`, "g"))) {
    const start = (match.index ?? 0) + match[0].length;
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const c = text[i] as string;
      if ("[{(".includes(c)) depth++;
      if ("]})".includes(c)) depth--;
      if (depth === 0) {
        found.push(text.slice(start, i + 1));
        break;
      }
    }
  }
  return found;
}
