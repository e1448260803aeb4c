import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { browse } from "./manifest-browser.js";

/** `mayfly app create` end to end: the CLI, its local page, and the simulated GitHub. */
describe("mayfly app create", () => {
  let sim: SimGitHub;
  let dir: string;
  beforeAll(async () => {
    sim = await startSimGitHub();
    dir = mkdtempSync(join(tmpdir(), "mayfly-app-cli-"));
  });
  afterAll(async () => {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function mayfly(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    let visit: Promise<unknown> | undefined;
    const code = await run(
      args,
      { GITHUB_API_URL: sim.url },
      {
        out: (t) => out.push(t),
        err: (t) => {
          err.push(t);
          const url = /Open (http:\/\/127\.0\.0\.1:\d+\/\S*) in a browser/.exec(t)?.[1];
          if (url !== undefined) visit = browse(url);
        },
      },
    );
    await visit;
    return { code, out: out.join("\n"), err: err.join("\n") };
  }

  const common = [
    "--org",
    "example-org",
    "--github-url",
    "",
    "--webhook-url",
    "https://mayfly.example.com/webhook",
  ];
  const args = (...more: string[]) => [
    "app",
    "create",
    ...common.map((a) => a || sim.url),
    ...more,
  ];

  it("writes the App's credentials to a 0600 env file that the controller reads", async () => {
    const file = join(dir, "app.env");
    const { code, out, err } = await mayfly(args("--out", file));
    expect(code, err).toBe(0);
    expect(out).toBe("");
    expect(err).toMatch(/App mayfly-example-org \(ID \d+\) created; credentials written to /);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const env = parseEnv(readFileSync(file, "utf8"));
    expect(env.GITHUB_APP_ID).toMatch(/^\d+$/);
    expect(env.GITHUB_APP_PRIVATE_KEY).toContain("PRIVATE KEY-----");
    expect(env.GITHUB_WEBHOOK_SECRET?.length).toBeGreaterThanOrEqual(20);
    expect(err).not.toContain(env.GITHUB_WEBHOOK_SECRET);
  });

  it("prints the credentials once as JSON with --print", async () => {
    const { code, out } = await mayfly(args("--print", "--name", "mayfly-printed"));
    expect(code).toBe(0);
    expect(Object.keys(JSON.parse(out)).sort()).toEqual([
      "GITHUB_APP_ID",
      "GITHUB_APP_PRIVATE_KEY",
      "GITHUB_WEBHOOK_SECRET",
    ]);
  });

  it.each([
    [false, ["--print"], "--webhook-url is required"],
    [true, [], "give --out FILE or --print"],
    [true, ["--print", "--out", "x.env"], "give --out FILE or --print"],
  ])(
    "refuses a command missing or doubling a flag with exit 64 (%#)",
    async (withCommon, more, message) => {
      const { code, err } = await mayfly(withCommon ? args(...more) : ["app", "create", ...more]);
      expect(code).toBe(64);
      expect(err).toContain(message);
    },
  );

  it("refuses to overwrite a file, before any App is created", async () => {
    const file = join(dir, "taken.env");
    expect((await mayfly(args("--out", file, "--name", "mayfly-first"))).code).toBe(0);
    const again = await mayfly(args("--out", file, "--name", "mayfly-second"));
    expect(again.code).toBe(64);
    expect(again.err).toContain(file);
  });
});
