import { sendError, sendJson } from "./http-io.js";
import { ownsOrg, type Route, type RouteContext } from "./route.js";

const iso = (d: Date | null): string | null =>
  d === null ? null : d.toISOString().replace(/\.\d{3}Z$/, "Z");

// https://docs.github.com/en/rest/actions/workflow-jobs#get-a-job-for-a-workflow-run
function getJob(ctx: RouteContext): undefined {
  const [owner = "", repo = "", id] = ctx.params;
  if (!ownsOrg(ctx, owner)) return;
  const repository = `${owner}/${repo}`;
  const job = ctx.state.jobs.get(Number(id));
  if (job === undefined || job.repository.toLowerCase() !== repository.toLowerCase()) {
    return sendError(ctx.res, 404, "Not Found", ctx.headers);
  }
  const repoUrl = `${ctx.baseUrl}/repos/${repository}`;
  sendJson(
    ctx.res,
    200,
    {
      id: job.id,
      run_id: job.runId,
      run_url: `${repoUrl}/actions/runs/${job.runId}`,
      run_attempt: 1,
      node_id: `CR_${job.id}`,
      head_sha: job.headSha,
      url: `${repoUrl}/actions/jobs/${job.id}`,
      html_url: `https://github.com/${repository}/actions/runs/${job.runId}/job/${job.id}`,
      status: job.status,
      conclusion: job.conclusion,
      created_at: iso(job.createdAt),
      started_at: iso(job.startedAt ?? job.createdAt),
      completed_at: iso(job.completedAt),
      name: job.name,
      steps: [],
      check_run_url: `${repoUrl}/check-runs/${job.id}`,
      labels: job.labels,
      runner_id: job.runnerId,
      runner_name: job.runnerName,
      runner_group_id: job.runnerId === null ? null : 1,
      runner_group_name: job.runnerId === null ? null : "Default",
      workflow_name: job.workflowName,
      head_branch: job.headBranch,
    },
    ctx.headers,
  );
}

/** Workflow job endpoints, authenticated with an installation token. */
export const jobRoutes: Route[] = [
  {
    method: "GET",
    path: /^\/repos\/([^/]+)\/([^/]+)\/actions\/jobs\/(\d+)$/,
    openapi: "/repos/{owner}/{repo}/actions/jobs/{job_id}",
    auth: "installation",
    handle: getJob,
  },
];
