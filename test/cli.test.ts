import { mkdtempSync } from "node:fs";
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
