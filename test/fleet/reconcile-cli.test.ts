import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { run } from "../../src/cli.js";
import { openLedger } from "../../src/ledger/open-ledger.js";
import { type SimEc2, startSimEc2 } from "../../src/sim/ec2/sim-ec2.js";
import { type SimGitHub, startSimGitHub } from "../../src/sim/github/start-sim-github.js";
import { testEc2Client } from "../cloud/ec2-test-client.js";
import { jobEvent } from "../support/fixtures.js";
import { needPostgres } from "../support/need-postgres.js";

const postgres = needPostgres("mayfly reconcile's leader test (test/fleet/reconcile-cli.test.ts)");

const FLEET = `
fleet: cli
network: { vpcId: vpc-0511, runnerCidr: 10.0.128.0/24, availabilityZones: [eu-west-1a] }
pools:
  - { name: x64, labels: [mayfly-4cpu], instanceTypes: [c7i.xlarge], image: ami-0123456789abcdef0, maxRunners: 2 }
`;

describe("mayfly reconcile", () => {
  let dir: string;
  let gh: SimGitHub;
  let ec2: SimEc2;
  let env: Record<string, string>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "mayfly-reconcile-"));
    writeFileSync(join(dir, "fleet.yaml"), FLEET);
    gh = await startSimGitHub();
    ec2 = await startSimEc2({ vpcId: "vpc-0511" });
    env = {
      GITHUB_WEBHOOK_SECRET: "s",
      GITHUB_APP_ID: String(gh.appId),
      GITHUB_APP_PRIVATE_KEY: gh.privateKey.reveal(),
      GITHUB_API_URL: gh.url,
      MAYFLY_DATA_DIR: join(dir, "data"),
      MAYFLY_CONFIG: join(dir, "fleet.yaml"),
      LOG_LEVEL: "warn",
    };
    const ledger = await openLedger({ dataDir: join(dir, "data") });
    await ledger.migrate();
    await ledger.ingest(
      { id: "d1", event: "workflow_job", receivedAt: new Date() },
      jobEvent(),
      "x64",
    );
    await ledger.close();
  });
  afterEach(async () => {
    await gh.stop();
    await ec2.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function mayfly(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(
      args,
      env,
      { out: (t) => out.push(t), err: (t) => err.push(t) },
      { ec2: testEc2Client(ec2.url) },
    );
    return { code, out: out.join("\n"), err: err.join("\n") };
  }

  it("says what a pass would do and does nothing in a dry run", async () => {
    ec2.seed(1, { "mayfly:fleet": "cli" });
    const { code, out } = await mayfly(["reconcile", "--dry-run"]);
    expect(code).toBe(0);
    expect(out).toContain("reconcile (dry run): what the pass would do");
    expect(out).toMatch(/relaunch\s+1/);
    expect(out).toMatch(/terminate\s+0/);
    expect(gh.requestCount(/\/app\/hook\/deliveries/)).toBe(0);
    expect(ec2.calls("TerminateInstances")).toBe(0);
  });

  it("prints the plan as JSON", async () => {
    const { code, out } = await mayfly(["reconcile", "--dry-run", "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ dryRun: true, plan: { relaunchCount: 1 } });
  });

  it("runs the other phases when one fails, says which, and exits 1", async () => {
    await gh.stop();
    gh = await startSimGitHub({
      fault: (r) => (r.path === "/app/hook/deliveries" ? 503 : undefined),
    });
    env.GITHUB_APP_ID = String(gh.appId);
    env.GITHUB_APP_PRIVATE_KEY = gh.privateKey.reveal();
    env.GITHUB_API_URL = gh.url;
    ec2.seed(1, { "mayfly:fleet": "cli" });
    const { code, out } = await mayfly(["reconcile"]);
    expect(code).toBe(1);
    expect(out).toContain("failed phases: recovery");
    expect(out).toMatch(/relaunch\s+1/);
  });

  it(
    postgres.title("exits 75 (try again) and does nothing while another replica is reconciling"),
    async (ctx) => {
      if (postgres.url === "") return ctx.skip(postgres.why);
      const name = `mayfly_cli_${randomBytes(6).toString("hex")}`;
      const admin = new pg.Client({ connectionString: postgres.url });
      await admin.connect();
      await admin.query(`create database ${name}`);
      await admin.end();
      env.DATABASE_URL = postgres.url.replace(/\/[^/]*$/, `/${name}`);
      expect((await mayfly(["migrate"])).code).toBe(0);
      // Another replica's pass holds the reconcile lock (sql-ledger.ts asLeader).
      const replica = new pg.Client({ connectionString: env.DATABASE_URL });
      await replica.connect();
      try {
        await replica.query("select pg_advisory_lock(hashtext('mayfly:reconcile'))");
        ec2.seed(1, { "mayfly:fleet": "cli" });
        const { code, err } = await mayfly(["reconcile"]);
        expect(code).toBe(75);
        expect(err).toContain("another replica is reconciling now; nothing done");
        expect(ec2.calls("TerminateInstances")).toBe(0);
        expect(gh.requestCount(/\/app\/hook\/deliveries/)).toBe(0);
      } finally {
        await replica.end();
      }
      // Once that replica is gone, the same command runs the pass.
      expect((await mayfly(["reconcile"])).code).toBe(0);
    },
  );

  it("refuses to run without the GitHub App", async () => {
    delete env.GITHUB_APP_ID;
    const { code, err } = await mayfly(["reconcile", "--dry-run"]);
    expect(code).toBe(78);
    expect(err).toContain("GITHUB_APP_ID: required");
  });
});
