import { JOB_TAG } from "../cloud/ec2/run-instances-input.js";

/**
 * An EC2 Query API request: its action, the job a RunInstances is for (from the tags sent),
 * and the instances a TerminateInstances names (comma-joined).
 */
export function classifyEc2(_method: string, _path: string, body: Buffer): Record<string, string> {
  const params = new URLSearchParams(body.toString("utf8"));
  const action = params.get("Action") ?? "";
  const info: Record<string, string> = { action };
  if (action === "RunInstances") {
    for (const [key, value] of params) {
      const m = /^TagSpecification\.1\.Tag\.(\d+)\.Key$/.exec(key);
      if (m && value === JOB_TAG)
        info.jobId = params.get(`TagSpecification.1.Tag.${m[1]}.Value`) ?? "";
    }
  }
  if (action === "TerminateInstances") {
    const ids: string[] = [];
    for (const [key, value] of params) if (/^InstanceId\.\d+$/.test(key)) ids.push(value);
    info.instanceIds = ids.join(",");
  }
  return info;
}

/** A GitHub REST request: a JIT registration names its runner (fleet-jobId-launch). */
export function classifyGitHub(method: string, path: string, body: Buffer): Record<string, string> {
  const info: Record<string, string> = { route: `${method} ${path.split("?")[0]}` };
  if (method === "POST" && path.endsWith("/generate-jitconfig")) {
    try {
      const name = (JSON.parse(body.toString("utf8")) as { name?: unknown }).name;
      if (typeof name === "string") info.runnerName = name;
    } catch {
      // Not JSON: the sim answers 400; nothing to name.
    }
  }
  return info;
}

/** A webhook delivery: its action and the workflow job it is about. */
export function classifyWebhook(
  _method: string,
  _path: string,
  body: Buffer,
): Record<string, string> {
  try {
    const payload = JSON.parse(body.toString("utf8")) as {
      action?: unknown;
      workflow_job?: { id?: unknown };
    };
    return {
      action: String(payload.action ?? ""),
      jobId: String(payload.workflow_job?.id ?? ""),
    };
  } catch {
    return {};
  }
}

/** EC2 actions that change something (everything but Describe*). */
export function isMutating(action: string): boolean {
  return action !== "" && !action.startsWith("Describe");
}
