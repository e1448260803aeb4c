import type { EmitterWebhookEvent } from "@octokit/webhooks";
import { z } from "zod";
import type { JobAction, JobEvent } from "../core/job.js";
import { everyStringStorable } from "./storable-text.js";

const timestamp = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), "expected an ISO 8601 timestamp")
  .nullish();
const id = z.number().int().positive();

export const JOB_ACTIONS: readonly JobAction[] = ["waiting", "queued", "in_progress", "completed"];

/**
 * The fields of a `workflow_job` delivery that mayfly uses; anything else is dropped.
 * Lenient where GitHub's own examples are: older payloads lack `run_attempt`, `created_at`,
 * `workflow_name` and `head_branch`, and `organization`/`installation` are optional.
 * Every string it keeps must be one PostgreSQL can store as sent (storable-text.ts).
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#workflow_job
 */
export const workflowJobPayload = z
  .object({
    action: z.enum(JOB_ACTIONS as [JobAction, ...JobAction[]]),
    workflow_job: z.object({
      id,
      run_id: id,
      run_attempt: id.optional(),
      name: z.string(),
      workflow_name: z.string().nullish(),
      head_branch: z.string().nullish(),
      head_sha: z.string().regex(/^[0-9a-f]{40,64}$/, "expected a commit SHA"),
      labels: z.array(z.string()).max(100),
      created_at: timestamp,
      started_at: timestamp,
      completed_at: timestamp,
      conclusion: z.string().nullish(),
      runner_id: z.number().int().nullish(),
      runner_name: z.string().nullish(),
    }),
    repository: z.object({
      full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected "owner/repo"'),
      owner: z.object({ login: z.string() }),
      // GitHub always sends both; a payload without them is taken as not public.
      private: z.boolean().optional(),
      visibility: z.string().optional(),
    }),
    organization: z.object({ login: z.string() }).nullish(),
    installation: z.object({ id }).nullish(),
  })
  .superRefine(everyStringStorable);

export type WorkflowJobPayload = z.output<typeof workflowJobPayload>;

/**
 * A `workflow_job` body as Octokit's webhook types describe it (from GitHub's OpenAPI
 * description). The constraint makes the build fail if the schema asks for a field GitHub
 * does not promise, or types it otherwise.
 */
export type OctokitWorkflowJob = KeptBySchema<EmitterWebhookEvent<"workflow_job">["payload"]>;
type KeptBySchema<T extends WorkflowJobPayload> = T;

/** Whether the job's repository is public (GitHub's `visibility`, else `private: false`). */
export function isPublicRepository(payload: WorkflowJobPayload): boolean {
  const { visibility, private: isPrivate } = payload.repository;
  return visibility !== undefined ? visibility === "public" : isPrivate === false;
}

/** The job event a validated payload describes. */
export function toJobEvent(payload: WorkflowJobPayload): JobEvent {
  const job = payload.workflow_job;
  const date = (s: string | null | undefined) => (s ? new Date(s) : null);
  return {
    action: payload.action,
    jobId: job.id,
    runId: job.run_id,
    runAttempt: job.run_attempt ?? 1,
    installationId: payload.installation?.id ?? null,
    org: payload.organization?.login ?? payload.repository.owner.login,
    repository: payload.repository.full_name,
    workflowName: job.workflow_name ?? null,
    jobName: job.name,
    headBranch: job.head_branch ?? null,
    headSha: job.head_sha,
    labels: job.labels,
    createdAt: date(job.created_at),
    startedAt: date(job.started_at),
    completedAt: date(job.completed_at),
    conclusion: job.conclusion ?? null,
    // GitHub sends 0 / "" for "no runner" in some payloads.
    runnerId: job.runner_id ? job.runner_id : null,
    runnerName: job.runner_name ? job.runner_name : null,
  };
}
