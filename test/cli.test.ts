import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../src/cli.js";
import { loadConfig } from "../src/config/load-config.js";
import { serve } from "../src/main.js";
import { memoryLogger, sign } from "./support/fixtures.js";

async function mayfly(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(args, env, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("mayfly command", () => {
  it("prints the fleet file's JSON Schema", async () => {
    const { code, out } = await mayfly(["config", "schema"]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ title: "mayfly fleet configuration", type: "object" });
  });

  it("checks a good configuration", async () => {
    const { code, out } = await mayfly(["config", "check", "--config", "examples/fleet.yaml"], {
      GITHUB_WEBHOOK_SECRET: "s",
    });
    expect(code).toBe(0);
    expect(out).toContain("examples/fleet.yaml: ok (2 pools)");
  });

  it("exits 78 naming every configuration problem, without the secret", async () => {
    const { code, err } = await mayfly(["config", "check"], { DATABASE_URL: "mysql://u:hush@h/d" });
    expect(code).toBe(78);
    expect(err).toContain("GITHUB_WEBHOOK_SECRET: required");
    expect(err).toContain("MAYFLY_CONFIG: required");
    expect(err).toContain("DATABASE_URL: expected a postgres://");
    expect(err).not.toContain("hush");
  });

  it("exits 64 with usage on an unknown command or option", async () => {
    expect(await mayfly(["launch"])).toMatchObject({
      code: 64,
      err: expect.stringContaining("unknown command: launch"),
    });
    expect(await mayfly(["serve", "--colour"])).toMatchObject({
      code: 64,
      err: expect.stringContaining("usage: mayfly"),
    });
    expect((await mayfly([])).code).toBe(64);
    expect((await mayfly(["--help"])).code).toBe(0);
  });

  it("migrates the embedded ledger twice without harm", async () => {
    const env = { MAYFLY_DATA_DIR: mkdtempSync(join(tmpdir(), "mayfly-data-")) };
    expect(await mayfly(["migrate"], env)).toMatchObject({ code: 0, out: "ledger migrated" });
    expect(await mayfly(["migrate"], env)).toMatchObject({ code: 0, out: "ledger migrated" });
  });
});

describe("exit codes (sysexits.h)", () => {
  const freePort = () =>
    new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });

  it("exits 69 (unavailable) when the controller named by --url cannot be reached", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const { code, err } = await mayfly(["jobs", "--url", url], {
      MAYFLY_ADMIN_TOKEN: "t".repeat(32),
    });
    expect(code).toBe(69);
    expect(err).toContain(`cannot reach the controller at ${url}`);
  });

  it("exits 69 when PostgreSQL does not answer, naming no password", async () => {
    const port = await freePort();
    const { code, err } = await mayfly(["migrate"], {
      DATABASE_URL: `postgres://mayfly:hush-hush@127.0.0.1:${port}/mayfly`,
    });
    expect(code).toBe(69);
    expect(err).not.toContain("hush-hush");
  });

  it("exits 77 (no permission) when the controller refuses the admin token", async () => {
    const good = "g".repeat(40);
    const config = loadConfig(
      {
        GITHUB_WEBHOOK_SECRET: "exit-code-secret",
        MAYFLY_DATA_DIR: mkdtempSync(join(tmpdir(), "mayfly-data-")),
        MAYFLY_PORT: "0",
        MAYFLY_ADMIN_TOKEN: good,
        LOG_LEVEL: "silent",
      },
      "examples/fleet.yaml",
    );
    const running = await serve(config, { logger: memoryLogger("info").logger });
    try {
      const address = running.app.server.address();
      const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
      const refused = await mayfly(["jobs", "--url", url], { MAYFLY_ADMIN_TOKEN: "w".repeat(40) });
      expect(refused.code).toBe(77);
      expect(refused.err).toContain("a valid admin token is required");
      expect(refused.err).not.toContain("w".repeat(40));
      // The same command with the right token is served: 77 is about the token alone.
      expect((await mayfly(["jobs", "--url", url], { MAYFLY_ADMIN_TOKEN: good })).code).toBe(0);
    } finally {
      await running.stop();
    }
  });
});

describe("serve", () => {
  it("starts from the example fleet file, records a signed webhook, and stops", async () => {
    const config = loadConfig(
      {
        GITHUB_WEBHOOK_SECRET: "serve-test-secret",
        MAYFLY_DATA_DIR: mkdtempSync(join(tmpdir(), "mayfly-data-")),
        MAYFLY_PORT: "0",
        LOG_LEVEL: "info",
      },
      "examples/fleet.yaml",
    );
    const log = memoryLogger("info");
    const running = await serve(config, { logger: log.logger });
    try {
      const address = running.app.server.address();
      const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const body = JSON.stringify({
        action: "queued",
        workflow_job: {
          id: 7,
          run_id: 3,
          run_attempt: 1,
          name: "build",
          head_sha: "0123456789abcdef0123456789abcdef01234567",
          labels: ["self-hosted", "linux", "x64", "mayfly-4cpu", "mayfly-run-3"],
        },
        repository: { full_name: "example-org/app", owner: { login: "example-org" } },
        installation: { id: 1 },
      });
      const response = await fetch(`${base}/webhook`, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "x-github-event": "workflow_job",
          "x-github-delivery": "0b7c1e5e-0000-4000-8000-000000000001",
          "x-hub-signature-256": sign(body, "serve-test-secret"),
        },
      });
      expect(response.status).toBe(202);
      expect(await running.ledger.getJob(7)).toMatchObject({ state: "queued", pool: "linux-4cpu" });
      expect(log.lines()).toContain('"msg":"mayfly serving"');
      expect(log.lines()).toContain("recording webhooks only, launching no runners");
      expect(log.lines()).not.toContain("serve-test-secret");
    } finally {
      await running.stop();
    }
  });
});
