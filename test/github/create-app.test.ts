import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readSettings } from "../../src/config/settings.js";
import { GitHubError, UsageError } from "../../src/errors.js";
import { type CreateAppOptions, createAppFromManifest } from "../../src/github/create-app.js";
import { createGitHubApp } from "../../src/github/github-app.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { memoryLogger } from "../support/fixtures.js";
import { type BrowserVisit, browse, readForm } from "./manifest-browser.js";

const WEBHOOK_URL = "https://mayfly.example.org/webhook";
const VARIABLES = ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"];

describe("mayfly app create registers the GitHub App from its manifest", () => {
  let sim: SimGitHub;
  let dir: string;
  // How far the simulated GitHub's clock runs ahead of ours.
  let skewMs = 0;

  beforeAll(async () => {
    sim = await startSimGitHub({ now: () => Date.now() + skewMs });
  });
  afterAll(() => sim.stop());
  afterEach(() => {
    skewMs = 0;
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function tempFile(name = "mayfly-app.env"): string {
    dir = mkdtempSync(join(tmpdir(), "mayfly-app-"));
    return join(dir, name);
  }

  /** Runs the command with a browser that walks the flow as soon as the page is up. */
  async function create(
    options: Partial<CreateAppOptions> = {},
    walk: (pageUrl: string) => Promise<BrowserVisit> = (url) => browse(url),
  ) {
    const { logger, lines } = memoryLogger();
    const printed: string[] = [];
    let visit: Promise<BrowserVisit> | undefined;
    const created = createAppFromManifest(
      {
        org: "example-org",
        webUrl: sim.url,
        apiUrl: sim.url,
        webhookUrl: WEBHOOK_URL,
        output: "print",
        ...options,
      },
      { logger, out: (text) => printed.push(text), onUrl: (url) => (visit = walk(url)) },
    );
    const result = await created.then(
      (app) => ({ app, error: undefined }),
      (error: unknown) => ({ app: undefined, error }),
    );
    return { ...result, visit: await visit, printed, lines };
  }

  it("writes the App ID, key and webhook secret to a new 0600 file that mayfly can read", async () => {
    const file = tempFile();
    const { app, error, visit, printed, lines } = await create({ output: { file } });
    expect(error).toBeUndefined();
    expect(app?.writtenTo).toBe(file);
    expect(app?.owner).toBe("example-org");
    expect(app?.installUrl).toBe(`${app?.htmlUrl}/installations/new`);
    expect(printed).toEqual([]);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const text = readFileSync(file, "utf8");
    const env = parseEnv(text);
    // Only what mayfly reads: the OAuth client secret stays out.
    expect(Object.keys(env).sort()).toEqual(VARIABLES);
    const settings = readSettings(env);
    const githubApp = settings.githubApp;
    if (githubApp === undefined) throw new Error("no GitHub App in the file");
    expect(githubApp.appId).toBe(app?.appId);
    expect(githubApp.privateKey.reveal()).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(settings.webhookSecrets).toHaveLength(1);

    // A POSIX shell reads the same file (`set -a; . FILE`) to the same settings.
    const fromShell = execFileSync(
      "sh",
      ["-c", 'set -a; . "$1"; node -e "console.log(JSON.stringify(process.env))"', "sh", file],
      { encoding: "utf8", env: { PATH: process.env.PATH } },
    );
    const shellSettings = readSettings(JSON.parse(fromShell));
    expect(shellSettings.githubApp?.privateKey.reveal()).toBe(githubApp.privateKey.reveal());
    expect(shellSettings.webhookSecrets[0]?.reveal()).toBe(settings.webhookSecrets[0]?.reveal());

    // The key works: the App authenticates as itself against the (simulated) GitHub.
    const octokitApp = createGitHubApp({
      ...githubApp,
      baseUrl: sim.url,
      logger: memoryLogger().logger,
    });
    const { data } = await octokitApp.octokit.request("GET /app");
    expect(data?.id).toBe(app?.appId);
    expect(data?.slug).toBe(app?.slug);
    expect(data?.events).toEqual(["workflow_job"]);

    // Nothing secret reached the log: not the key, the webhook secret, nor the one-time code.
    const code = new URL(visit?.location ?? "").searchParams.get("code") ?? "";
    expect(code).not.toBe("");
    const log = lines();
    expect(log).toContain("GitHub App created");
    expect(log).not.toContain(code);
    expect(log).not.toContain(settings.webhookSecrets[0]?.reveal());
    expect(log).not.toMatch(/PRIVATE KEY|MII/);
    expect(visit?.callback.text).not.toContain(code);
  });

  it("posts a least-privilege manifest for the org, with a random state", async () => {
    const first = await create();
    const second = await create();
    const visit = first.visit as BrowserVisit;
    const action = new URL(visit.action);
    expect(`${action.origin}${action.pathname}`).toBe(
      `${sim.url}/organizations/example-org/settings/apps/new`,
    );
    expect(action.searchParams.get("state")).toMatch(/^[0-9a-f]{32}$/);
    expect(new URL(second.visit?.action ?? "").searchParams.get("state")).not.toBe(
      action.searchParams.get("state"),
    );
    expect(visit.manifest).toMatchObject({
      name: "mayfly-example-org",
      url: "https://mayfly.example.org",
      hook_attributes: { url: WEBHOOK_URL, active: true },
      public: false,
      default_events: ["workflow_job"],
    });
    expect(visit.manifest.default_permissions).toEqual({
      organization_self_hosted_runners: "write",
      actions: "read",
      metadata: "read",
    });
    expect(new URL(visit.manifest.redirect_url).pathname).toBe("/callback");
    expect(visit.callback.status).toBe(200);
    expect(visit.callback.text).toContain("You can close this tab");
  });

  it("registers on the user's own account when no org is given", async () => {
    const { app, visit } = await create({ org: undefined, name: "mayfly-personal" });
    expect(new URL(visit?.action ?? "").pathname).toBe("/settings/apps/new");
    expect(app?.name).toBe("mayfly-personal");
    expect(app?.owner).toBe("sim-user");
  });

  it("refuses to overwrite an existing file, before anything is created on GitHub", async () => {
    const file = tempFile();
    const first = await create({ output: { file } });
    const written = readFileSync(file, "utf8");
    const newApps = sim.requestCount(/\/settings\/apps\/new$/);
    let opened = false;
    const { error } = await create({ output: { file } }, async (url) => {
      opened = true;
      return browse(url);
    });
    expect(error).toBeInstanceOf(UsageError);
    expect(String(error)).toMatch(/exists; mayfly app create never overwrites credentials/);
    expect(readFileSync(file, "utf8")).toBe(written);
    expect(opened).toBe(false);
    expect(sim.requestCount(/\/settings\/apps\/new$/)).toBe(newApps);
    expect(first.app?.appId).toBeGreaterThan(0);
  });

  it("prints the credentials once, as JSON for Secrets Manager", async () => {
    const { app, printed, lines } = await create({ output: "print" });
    expect(printed).toHaveLength(1);
    const secret = JSON.parse(printed[0] ?? "");
    expect(Object.keys(secret).sort()).toEqual(VARIABLES);
    expect(secret.GITHUB_APP_ID).toBe(String(app?.appId));
    expect(readSettings(secret).githubApp?.appId).toBe(app?.appId);
    expect(app?.writtenTo).toBe("stdout");
    expect(lines()).not.toContain(secret.GITHUB_WEBHOOK_SECRET);
    expect(lines()).not.toMatch(/PRIVATE KEY/);
  });

  it("refuses a callback with another state and keeps waiting for the right one", async () => {
    let refused: Response | undefined;
    const { app, visit, lines } = await create({}, (url) =>
      browse(url, async (location) => {
        const forged = new URL(location);
        forged.searchParams.set("state", "0".repeat(32));
        refused = await fetch(forged);
      }),
    );
    expect(refused?.status).toBe(400);
    expect(await refused?.text()).toMatch(/does not belong/);
    expect(visit?.callback.status).toBe(200);
    expect(app?.appId).toBeGreaterThan(0);
    expect(lines()).toContain("manifest callback refused");
  });

  it("fails clearly on an unknown code, and leaves no file behind", async () => {
    const file = tempFile();
    const { error, printed } = await create({ output: { file } }, async (url) => {
      const form = await readForm(url);
      const state = new URL(form.action).searchParams.get("state") ?? "";
      const answer = await fetch(`${url}callback?code=made-up-code&state=${state}`);
      return {
        action: form.action,
        manifest: {},
        location: "",
        callback: { status: answer.status, text: "" },
      };
    });
    expect(error).toBeInstanceOf(GitHubError);
    expect((error as GitHubError).status).toBe(404);
    expect(String(error)).toMatch(/code is unknown, already used or older than one hour/);
    expect(String(error)).not.toContain("made-up-code");
    expect(existsSync(file)).toBe(false);
    expect(printed).toEqual([]);
  });

  it("fails clearly when the code is older than an hour", async () => {
    const { error } = await create({}, (url) =>
      browse(url, () => {
        skewMs = 61 * 60_000;
      }),
    );
    expect(error).toBeInstanceOf(GitHubError);
    expect((error as GitHubError).status).toBe(404);
  });

  it("gives up with a clear error when GitHub never sends the browser back", async () => {
    const file = tempFile();
    const { error } = await create({ output: { file }, timeoutMs: 50 }, (url) =>
      readForm(url).then(() => ({}) as BrowserVisit),
    );
    expect(error).toBeInstanceOf(GitHubError);
    expect(String(error)).toMatch(
      /did not send the browser back to http:\/\/127\.0\.0\.1:\d+\/callback/,
    );
    expect(existsSync(file)).toBe(false);
  });

  it("refuses options GitHub would refuse, before starting anything", async () => {
    const cases: Partial<CreateAppOptions>[] = [
      { webhookUrl: "http://mayfly.example.org/webhook" },
      { webhookUrl: "not a url" },
      { org: "not/an org" },
      { name: "a".repeat(35) },
      { webUrl: "ftp://github.example" },
      // The conversion answers the App's key and webhook secret.
      { apiUrl: "http://ghe.example.org/api/v3" },
    ];
    for (const options of cases) {
      const { error, visit } = await create(options);
      expect(error, JSON.stringify(options)).toBeInstanceOf(UsageError);
      expect(visit).toBeUndefined();
    }
  });
});
