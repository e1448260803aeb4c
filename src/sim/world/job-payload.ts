import type { SimJob } from "../github/sim-state.js";

const iso = (d: Date | null): string | null =>
  d === null ? null : d.toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * A `workflow_job` webhook payload for a job as it stands now, with the fields GitHub sends:
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#workflow_job
 */
export function jobPayload(
  action: "queued" | "in_progress" | "completed",
  job: SimJob,
  installationId: number,
): Record<string, unknown> {
  const [owner = "", name = ""] = job.repository.split("/");
  return {
    action,
    workflow_job: {
      id: job.id,
      run_id: job.runId,
      run_attempt: 1,
      name: job.name,
      workflow_name: job.workflowName,
      head_branch: job.headBranch,
      head_sha: job.headSha,
      status: job.status,
      conclusion: job.conclusion,
      labels: job.labels,
      created_at: iso(job.createdAt),
      started_at: iso(job.startedAt ?? job.createdAt),
      completed_at: iso(job.completedAt),
      runner_id: job.runnerId,
      runner_name: job.runnerName,
      runner_group_id: job.runnerId === null ? null : 1,
      runner_group_name: job.runnerId === null ? null : "Default",
      steps: [],
    },
    repository: {
      name,
      full_name: job.repository,
      private: true,
      visibility: "private",
      owner: { login: owner },
    },
    organization: { login: owner },
    installation: { id: installationId },
    sender: { login: "octocat", type: "User" },
  };
}
