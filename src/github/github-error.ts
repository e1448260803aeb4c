import { GitHubError } from "../errors.js";

/** The HTTP status of an Octokit request error, or undefined when no answer came. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" && status > 0 ? status : undefined;
}

/**
 * Our error for a failed GitHub call. The message names the route and GitHub's own message;
 * Octokit's error stays as the cause (it redacts the authorization header itself).
 */
export function toGitHubError(error: unknown, route: string): GitHubError {
  const status = statusOf(error);
  const said = (error as { response?: { data?: { message?: unknown } } } | null)?.response?.data
    ?.message;
  const detail =
    status === undefined
      ? "no answer"
      : `HTTP ${status}${typeof said === "string" ? ` (${said.slice(0, 200)})` : ""}`;
  return new GitHubError(status, `GitHub ${route}: ${detail}`, { cause: error });
}
