import type { App } from "@octokit/app";
import { Secret } from "../config/secret.js";
import type {
  DeliveryPayload,
  DeliverySummary,
  GitHub,
  JitConfigRequest,
  JitRunner,
  JobInfo,
  RateBudget,
  RunnerGroup,
  RunnerGroupSpec,
  RunnerInfo,
} from "./github.js";
import { createGitHubApp, type GitHubAppOptions } from "./github-app.js";
import { statusOf, toGitHubError } from "./github-error.js";
import { RegistrationsFirst } from "./registrations-first.js";

type InstallationOctokit = Awaited<ReturnType<App["getInstallationOctokit"]>>;
type Labels = { name: string }[];

function splitRepository(repository: string): { owner: string; repo: string } {
  const [owner, repo, ...rest] = repository.split("/");
  if (!owner || !repo || rest.length > 0) throw new TypeError(`not "owner/name": ${repository}`);
  return { owner, repo };
}

/** The cursor of the next page, from a `Link` header. https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api */
function nextCursor(link: string | undefined): string | undefined {
  const next = /<([^>]+)>;\s*rel="next"/.exec(link ?? "")?.[1];
  return next === undefined ? undefined : (new URL(next).searchParams.get("cursor") ?? undefined);
}

/** The GitHub port on Octokit, authenticated as the App and as its installations. */
export class OctokitGitHub implements GitHub {
  readonly #app: App;
  readonly #pageSize: number;
  // One client per installation. @octokit/auth-app keeps each installation token for 59 of
  // its 60 minutes and mints the next one on the first request after that.
  // https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/authenticating-as-a-github-app-installation
  readonly #clients = new Map<number, Promise<InstallationOctokit>>();
  readonly #budgets = new Map<number, RateBudget>();
  #requests = 0;
  #installationRequests = 0;
  #rateLimits = 0;
  // A deletion waits at most this long behind registrations: during a burst, registrations
  // get most of the write pacing, and VMs whose runner is being deregistered still end soon.
  readonly #writes = new RegistrationsFirst(5_000);

  constructor(options: GitHubAppOptions) {
    this.#app = createGitHubApp({
      ...options,
      onRequest: (asApp) => {
        this.#requests++;
        if (!asApp) this.#installationRequests++;
        options.onRequest?.(asApp);
      },
      onThrottle: () => {
        this.#rateLimits++;
        options.onThrottle?.();
      },
    });
    this.#pageSize = options.tuning?.pageSize ?? 100;
  }

  #client(installationId: number): Promise<InstallationOctokit> {
    let client = this.#clients.get(installationId);
    if (client === undefined) {
      client = this.#app.getInstallationOctokit(installationId).then((octokit) => {
        octokit.hook.after("request", (response) => this.#noteBudget(installationId, response));
        // An error answer (404, 422, a rate limit) reports the budget too.
        octokit.hook.error("request", (error) => {
          const response = (error as { response?: { headers: Record<string, unknown> } }).response;
          if (response !== undefined) this.#noteBudget(installationId, response);
          throw error;
        });
        return octokit;
      });
      client.catch(() => this.#clients.delete(installationId));
      this.#clients.set(installationId, client);
    }
    return client;
  }

  #noteBudget(installationId: number, response: { headers: Record<string, unknown> }): void {
    const number = (name: string) => Number(response.headers[`x-ratelimit-${name}`] ?? Number.NaN);
    const [limit, remaining, reset] = [number("limit"), number("remaining"), number("reset")];
    if (![limit, remaining, reset].every(Number.isFinite)) return;
    this.#budgets.set(installationId, { limit, remaining, resetAt: new Date(reset * 1000) });
  }

  installationBudget(now: Date): RateBudget | undefined {
    let lowest: RateBudget | undefined;
    for (const budget of this.#budgets.values()) {
      if (budget.resetAt <= now) continue;
      if (lowest === undefined || budget.remaining < lowest.remaining) lowest = budget;
    }
    return lowest;
  }

  requestsMade(): number {
    return this.#requests;
  }

  installationRequestsMade(): number {
    return this.#installationRequests;
  }

  rateLimitsMet(): number {
    return this.#rateLimits;
  }

  generateJitConfig(req: JitConfigRequest): Promise<JitRunner> {
    return this.#writes.register(() => this.#generateJitConfig(req));
  }

  async #generateJitConfig(req: JitConfigRequest): Promise<JitRunner> {
    const route =
      req.repository === undefined
        ? "POST /orgs/{org}/actions/runners/generate-jitconfig"
        : "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig";
    try {
      const octokit = await this.#client(req.installationId);
      const where =
        req.repository === undefined ? { org: req.org } : splitRepository(req.repository);
      const { data } = await octokit.request(route, {
        ...where,
        name: req.name,
        runner_group_id: req.runnerGroupId,
        labels: [...req.labels],
      });
      const runner = data.runner as { id: number; name: string; labels: Labels };
      return {
        runnerId: runner.id,
        runnerName: runner.name,
        labels: runner.labels.map((l) => l.name),
        jitConfig: new Secret(data.encoded_jit_config as string),
      };
    } catch (error) {
      throw toGitHubError(error, route);
    }
  }

  async deleteRunner(installationId: number, org: string, runnerId: number, repository?: string) {
    const [owner, repo] = (repository ?? "").split("/");
    const route =
      repository === undefined
        ? "DELETE /orgs/{org}/actions/runners/{runner_id}"
        : "DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}";
    try {
      const octokit = await this.#client(installationId);
      await this.#writes.cleanup(() =>
        repository === undefined
          ? octokit.request("DELETE /orgs/{org}/actions/runners/{runner_id}", {
              org,
              runner_id: runnerId,
            })
          : octokit.request("DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}", {
              owner: owner ?? "",
              repo: repo ?? "",
              runner_id: runnerId,
            }),
      );
      return "deleted" as const;
    } catch (error) {
      // 422: the runner is running a job. https://docs.github.com/en/rest/actions/self-hosted-runners#delete-a-self-hosted-runner-from-an-organization
      if (statusOf(error) === 404) return "gone" as const;
      if (statusOf(error) === 422) return "busy" as const;
      throw toGitHubError(error, route);
    }
  }

  // https://docs.github.com/en/rest/actions/self-hosted-runners#list-self-hosted-runners-for-an-organization
  // (the `name` parameter), and the same for a repository.
  async findRunner(
    installationId: number,
    org: string,
    name: string,
    repository?: string,
  ): Promise<RunnerInfo | undefined> {
    const route =
      repository === undefined
        ? "GET /orgs/{org}/actions/runners"
        : "GET /repos/{owner}/{repo}/actions/runners";
    try {
      const octokit = await this.#client(installationId);
      const { data } =
        repository === undefined
          ? await octokit.request("GET /orgs/{org}/actions/runners", { org, name })
          : await octokit.request("GET /repos/{owner}/{repo}/actions/runners", {
              ...splitRepository(repository),
              name,
            });
      const r = data.runners.find((runner) => runner.name === name);
      if (r === undefined) return undefined;
      const status = r.status === "online" ? "online" : "offline";
      return { id: r.id, name: r.name, status, busy: r.busy, labels: r.labels.map((l) => l.name) };
    } catch (error) {
      throw toGitHubError(error, route);
    }
  }

  // https://docs.github.com/en/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app
  async installationIdOf(org: string): Promise<number | undefined> {
    const route = "GET /orgs/{org}/installation";
    try {
      const { data } = await this.#app.octokit.request(route, { org });
      return data.id;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw toGitHubError(error, route);
    }
  }

  // https://docs.github.com/en/rest/actions/self-hosted-runner-groups
  async findRunnerGroup(
    installationId: number,
    org: string,
    name: string,
  ): Promise<RunnerGroup | undefined> {
    const route = "GET /orgs/{org}/actions/runner-groups";
    try {
      const octokit = await this.#client(installationId);
      let found:
        | { id: number; name: string; visibility: string; allows_public_repositories: boolean }
        | undefined;
      for (let page = 1, seen = 0; found === undefined; page++) {
        const { data } = await octokit.request(route, { org, per_page: this.#pageSize, page });
        found = data.runner_groups.find((g) => g.name === name);
        seen += data.runner_groups.length;
        if (data.runner_groups.length === 0 || seen >= data.total_count) break;
      }
      if (found === undefined) return undefined;
      const visibility = found.visibility as RunnerGroup["visibility"];
      const repositories: string[] = [];
      const listRoute = "GET /orgs/{org}/actions/runner-groups/{runner_group_id}/repositories";
      for (let page = 1; visibility === "selected"; page++) {
        const { data } = await octokit.request(listRoute, {
          org,
          runner_group_id: found.id,
          per_page: this.#pageSize,
          page,
        });
        repositories.push(...data.repositories.map((r) => r.full_name));
        if (data.repositories.length === 0 || repositories.length >= data.total_count) break;
      }
      return {
        id: found.id,
        name: found.name,
        visibility,
        allowsPublicRepositories: found.allows_public_repositories,
        repositories,
      };
    } catch (error) {
      throw toGitHubError(error, route);
    }
  }

  async createRunnerGroup(
    installationId: number,
    org: string,
    spec: RunnerGroupSpec,
  ): Promise<number> {
    const route = "POST /orgs/{org}/actions/runner-groups";
    const octokit = await this.#client(installationId).catch((error: unknown) => {
      throw toGitHubError(error, route);
    });
    const ids = await this.#repositoryIds(octokit, spec.repositories);
    try {
      const { data } = await octokit.request(route, {
        org,
        name: spec.name,
        visibility: "selected",
        selected_repository_ids: ids,
        allows_public_repositories: spec.allowsPublicRepositories,
      });
      return data.id;
    } catch (error) {
      throw toGitHubError(error, route);
    }
  }

  async updateRunnerGroup(
    installationId: number,
    org: string,
    groupId: number,
    spec: RunnerGroupSpec,
  ): Promise<void> {
    const route = "PATCH /orgs/{org}/actions/runner-groups/{runner_group_id}";
    const octokit = await this.#client(installationId).catch((error: unknown) => {
      throw toGitHubError(error, route);
    });
    const ids = await this.#repositoryIds(octokit, spec.repositories);
    try {
      await octokit.request(route, {
        org,
        runner_group_id: groupId,
        name: spec.name,
        visibility: "selected",
        allows_public_repositories: spec.allowsPublicRepositories,
      });
    } catch (error) {
      throw toGitHubError(error, route);
    }
    const put = "PUT /orgs/{org}/actions/runner-groups/{runner_group_id}/repositories";
    try {
      await octokit.request(put, { org, runner_group_id: groupId, selected_repository_ids: ids });
    } catch (error) {
      throw toGitHubError(error, put);
    }
  }

  // https://docs.github.com/en/rest/repos/repos#get-a-repository
  async #repositoryIds(
    octokit: InstallationOctokit,
    repositories: readonly string[],
  ): Promise<number[]> {
    const route = "GET /repos/{owner}/{repo}";
    const ids: number[] = [];
    for (const repository of repositories) {
      try {
        const { data } = await octokit.request(route, splitRepository(repository));
        ids.push(Number(data.id));
      } catch (error) {
        throw toGitHubError(error, `${route} (${repository})`);
      }
    }
    return ids;
  }

  async *listRunners(installationId: number, org: string): AsyncIterable<RunnerInfo> {
    const route = "GET /orgs/{org}/actions/runners";
    let seen = 0;
    for (let page = 1; ; page++) {
      const { data } = await this.#client(installationId)
        .then((octokit) => octokit.request(route, { org, per_page: this.#pageSize, page }))
        .catch((error: unknown) => {
          throw toGitHubError(error, route);
        });
      for (const r of data.runners) {
        const status = r.status === "online" ? "online" : "offline";
        yield { id: r.id, name: r.name, status, busy: r.busy, labels: r.labels.map((l) => l.name) };
      }
      seen += data.runners.length;
      if (data.runners.length === 0 || seen >= data.total_count) return;
    }
  }

  async getJob(
    installationId: number,
    repository: string,
    jobId: number,
  ): Promise<JobInfo | undefined> {
    const route = "GET /repos/{owner}/{repo}/actions/jobs/{job_id}";
    try {
      const octokit = await this.#client(installationId);
      const { data } = await octokit.request(route, {
        ...splitRepository(repository),
        job_id: jobId,
      });
      return {
        id: Number(data.id),
        status: data.status,
        conclusion: data.conclusion,
        runnerName: data.runner_name,
      };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw toGitHubError(error, route);
    }
  }

  async *listDeliveries(since: Date): AsyncIterable<DeliverySummary> {
    const route = "GET /app/hook/deliveries";
    let cursor: string | undefined;
    do {
      const params = cursor === undefined ? {} : { cursor };
      const response = await this.#app.octokit
        .request(route, { per_page: this.#pageSize, ...params })
        .catch((error: unknown) => {
          throw toGitHubError(error, route);
        });
      const served = response.headers.date ? new Date(response.headers.date) : undefined;
      const listedAt = served && Number.isFinite(served.getTime()) ? served : undefined;
      for (const d of response.data) {
        const deliveredAt = new Date(d.delivered_at);
        // Newest first: the first older delivery ends the walk.
        if (deliveredAt < since) return;
        yield {
          id: Number(d.id),
          guid: d.guid,
          event: d.event,
          action: d.action,
          deliveredAt,
          redelivery: d.redelivery,
          statusCode: d.status_code,
          ...(listedAt ? { listedAt } : {}),
        };
      }
      cursor = nextCursor(response.headers.link);
    } while (cursor !== undefined);
  }

  async getDeliveryPayload(id: number): Promise<DeliveryPayload> {
    const route = "GET /app/hook/deliveries/{delivery_id}";
    try {
      const { data } = await this.#app.octokit.request(route, { delivery_id: id });
      return { guid: data.guid, event: data.event, payload: data.request.payload };
    } catch (error) {
      throw toGitHubError(error, route);
    }
  }
}
