import { sendError, sendJson } from "./http-io.js";
import { ownsOrg, pageOf, type Route, type RouteContext } from "./route.js";
import type { SimRepository, SimRunnerGroup } from "./sim-state.js";

function groupBody(ctx: RouteContext, group: SimRunnerGroup): Record<string, unknown> {
  const url = `${ctx.baseUrl}/orgs/${group.org}/actions/runner-groups/${group.id}`;
  return {
    id: group.id,
    name: group.name,
    visibility: group.visibility,
    default: group.isDefault,
    ...(group.visibility === "selected"
      ? { selected_repositories_url: `${url}/repositories` }
      : {}),
    runners_url: `${url}/runners`,
    inherited: false,
    allows_public_repositories: group.allowsPublicRepositories,
    restricted_to_workflows: false,
    selected_workflows: [],
    workflow_restrictions_read_only: false,
  };
}

function owner(ctx: RouteContext, login: string): Record<string, unknown> {
  const url = `${ctx.baseUrl}/users/${login}`;
  return {
    login,
    id: 1000 + login.length,
    node_id: `O_${login}`,
    avatar_url: `${ctx.baseUrl}/avatars/${login}`,
    gravatar_id: "",
    url,
    html_url: `${ctx.baseUrl}/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: "Organization",
    site_admin: false,
  };
}

// The fields GitHub's description requires of a repository: its `*_url` fields are links
// the sim does not serve.
const REPOSITORY_LINKS = [
  "archive",
  "assignees",
  "blobs",
  "branches",
  "collaborators",
  "comments",
  "commits",
  "compare",
  "contents",
  "contributors",
  "deployments",
  "downloads",
  "events",
  "forks",
  "git_commits",
  "git_refs",
  "git_tags",
  "hooks",
  "issue_comment",
  "issue_events",
  "issues",
  "keys",
  "labels",
  "languages",
  "merges",
  "milestones",
  "notifications",
  "pulls",
  "releases",
  "stargazers",
  "statuses",
  "subscribers",
  "subscription",
  "tags",
  "teams",
  "trees",
];

function repositoryBody(ctx: RouteContext, repo: SimRepository): Record<string, unknown> {
  const [login = "", name = ""] = repo.fullName.split("/");
  const url = `${ctx.baseUrl}/repos/${repo.fullName}`;
  const at = new Date(ctx.state.now()).toISOString();
  return {
    id: repo.id,
    node_id: `R_${repo.id}`,
    name,
    full_name: repo.fullName,
    owner: owner(ctx, login),
    private: repo.private,
    visibility: repo.private ? "private" : "public",
    html_url: `${ctx.baseUrl}/${repo.fullName}`,
    description: null,
    fork: false,
    url,
    ...Object.fromEntries(REPOSITORY_LINKS.map((link) => [`${link}_url`, `${url}/${link}`])),
    clone_url: `${ctx.baseUrl}/${repo.fullName}.git`,
    git_url: `git://127.0.0.1/${repo.fullName}.git`,
    ssh_url: `git@127.0.0.1:${repo.fullName}.git`,
    svn_url: `${ctx.baseUrl}/${repo.fullName}`,
    mirror_url: null,
    homepage: null,
    language: null,
    license: null,
    default_branch: "main",
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    subscribers_count: 0,
    network_count: 0,
    open_issues: 0,
    open_issues_count: 0,
    size: 0,
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_discussions: false,
    archived: false,
    disabled: false,
    pushed_at: at,
    created_at: at,
    updated_at: at,
  };
}

function groupOf(ctx: RouteContext): SimRunnerGroup | undefined {
  const org = ctx.params[0] ?? "";
  if (!ownsOrg(ctx, org)) return undefined;
  const group = ctx.state.runnerGroup(org, Number(ctx.params[1]));
  if (group === undefined) sendError(ctx.res, 404, "Not Found", ctx.headers);
  return group;
}

/** Repository IDs as full names, or undefined (and a 422 sent) when one is unknown. */
function repositoriesOf(ctx: RouteContext, ids: readonly number[]): Set<string> | undefined {
  const known = new Map([...ctx.state.repositories.values()].map((r) => [r.id, r]));
  const names = new Set<string>();
  for (const id of ids) {
    const repo = known.get(id);
    if (repo === undefined) {
      sendError(ctx.res, 422, `Invalid request.\n\nRepository ${id} not found.`, ctx.headers);
      return undefined;
    }
    names.add(repo.fullName.toLowerCase());
  }
  return names;
}

// https://docs.github.com/en/rest/actions/self-hosted-runner-groups#list-self-hosted-runner-groups-for-an-organization
function listGroups(ctx: RouteContext): undefined {
  const org = ctx.params[0] ?? "";
  if (!ownsOrg(ctx, org)) return;
  const { perPage, page } = pageOf(ctx.query);
  const all = ctx.state.runnerGroupsOf(org);
  const slice = all.slice((page - 1) * perPage, page * perPage);
  sendJson(
    ctx.res,
    200,
    { total_count: all.length, runner_groups: slice.map((g) => groupBody(ctx, g)) },
    ctx.headers,
  );
}

// https://docs.github.com/en/rest/actions/self-hosted-runner-groups#create-a-self-hosted-runner-group-for-an-organization
function createGroup(ctx: RouteContext): undefined {
  const org = ctx.params[0] ?? "";
  if (!ownsOrg(ctx, org)) return;
  const body = ctx.body as {
    name: string;
    visibility?: "all" | "selected" | "private";
    selected_repository_ids?: number[];
    allows_public_repositories?: boolean;
  };
  if (ctx.state.runnerGroupsOf(org).some((g) => g.name.toLowerCase() === body.name.toLowerCase())) {
    return sendError(
      ctx.res,
      422,
      `Validation Failed: a runner group named ${body.name} already exists.`,
      ctx.headers,
    );
  }
  const repositories = repositoriesOf(ctx, body.selected_repository_ids ?? []);
  if (repositories === undefined) return;
  const group = ctx.state.addRunnerGroup({
    org,
    name: body.name,
    visibility: body.visibility ?? "all",
    repositories,
    allowsPublicRepositories: body.allows_public_repositories ?? false,
  });
  sendJson(ctx.res, 201, groupBody(ctx, group), ctx.headers);
}

// https://docs.github.com/en/rest/actions/self-hosted-runner-groups#update-a-self-hosted-runner-group-for-an-organization
function updateGroup(ctx: RouteContext): undefined {
  const group = groupOf(ctx);
  if (group === undefined) return;
  const body = ctx.body as {
    name: string;
    visibility?: "all" | "selected" | "private";
    allows_public_repositories?: boolean;
  };
  group.name = body.name;
  if (body.visibility !== undefined) group.visibility = body.visibility;
  if (body.allows_public_repositories !== undefined)
    group.allowsPublicRepositories = body.allows_public_repositories;
  sendJson(ctx.res, 200, groupBody(ctx, group), ctx.headers);
}

// https://docs.github.com/en/rest/actions/self-hosted-runner-groups#list-repository-access-to-a-self-hosted-runner-group-in-an-organization
function listGroupRepositories(ctx: RouteContext): undefined {
  const group = groupOf(ctx);
  if (group === undefined) return;
  const { perPage, page } = pageOf(ctx.query);
  const all = [...group.repositories].map((name) => ctx.state.repository(name));
  const slice = all.slice((page - 1) * perPage, page * perPage);
  sendJson(
    ctx.res,
    200,
    { total_count: all.length, repositories: slice.map((r) => repositoryBody(ctx, r)) },
    ctx.headers,
  );
}

// https://docs.github.com/en/rest/actions/self-hosted-runner-groups#set-repository-access-for-a-self-hosted-runner-group-in-an-organization
function setGroupRepositories(ctx: RouteContext): undefined {
  const group = groupOf(ctx);
  if (group === undefined) return;
  const body = ctx.body as { selected_repository_ids: number[] };
  const repositories = repositoriesOf(ctx, body.selected_repository_ids);
  if (repositories === undefined) return;
  group.repositories = repositories;
  sendJson(ctx.res, 204, undefined, ctx.headers);
}

// https://docs.github.com/en/rest/repos/repos#get-a-repository
// Every repository of an installed organisation exists here; it is private unless a test
// arranged otherwise.
function getRepository(ctx: RouteContext): undefined {
  const login = ctx.params[0] ?? "";
  if (!ownsOrg(ctx, login)) return;
  const repo = ctx.state.repository(`${login}/${ctx.params[1] ?? ""}`);
  sendJson(ctx.res, 200, repositoryBody(ctx, repo), ctx.headers);
}

/** Runner group endpoints and the repository lookup they need, with an installation token. */
export const runnerGroupRoutes: Route[] = [
  {
    method: "GET",
    path: /^\/orgs\/([^/]+)\/actions\/runner-groups$/,
    openapi: "/orgs/{org}/actions/runner-groups",
    auth: "installation",
    handle: listGroups,
  },
  {
    method: "POST",
    path: /^\/orgs\/([^/]+)\/actions\/runner-groups$/,
    openapi: "/orgs/{org}/actions/runner-groups",
    auth: "installation",
    handle: createGroup,
  },
  {
    method: "PATCH",
    path: /^\/orgs\/([^/]+)\/actions\/runner-groups\/(\d+)$/,
    openapi: "/orgs/{org}/actions/runner-groups/{runner_group_id}",
    auth: "installation",
    handle: updateGroup,
  },
  {
    method: "GET",
    path: /^\/orgs\/([^/]+)\/actions\/runner-groups\/(\d+)\/repositories$/,
    openapi: "/orgs/{org}/actions/runner-groups/{runner_group_id}/repositories",
    auth: "installation",
    handle: listGroupRepositories,
  },
  {
    method: "PUT",
    path: /^\/orgs\/([^/]+)\/actions\/runner-groups\/(\d+)\/repositories$/,
    openapi: "/orgs/{org}/actions/runner-groups/{runner_group_id}/repositories",
    auth: "installation",
    handle: setGroupRepositories,
  },
  {
    method: "GET",
    path: /^\/repos\/([^/]+)\/([^/]+)$/,
    openapi: "/repos/{owner}/{repo}",
    auth: "installation",
    handle: getRepository,
  },
];
