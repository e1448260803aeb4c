import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SCRIPT = resolve("cloud-init/mayfly-boot.sh");
const JIT = "eyJydW5uZXIiOjQyfQ==";

// Stand-ins for the real runner's run.sh: a job writes _diag/Worker_*.log like the real
// runner does when it starts a job, then the runner exits.
const RUNNERS = {
  job: 'mkdir -p "$(dirname "$0")/_diag"; : > "$(dirname "$0")/_diag/Worker_1.log"; sleep 0.3; exit 0',
  crash: "exit 3",
  idle: "exec sleep 60",
  longJob:
    'mkdir -p "$(dirname "$0")/_diag"; : > "$(dirname "$0")/_diag/Worker_1.log"; exec sleep 60',
} as const;

type Run = {
  code: number | null;
  output: string;
  poweroffs: string[];
  root: string;
  argsSeen: string;
};

type Options = { jit?: boolean; download?: { sha256?: string } };

function sandbox(
  runner: string,
  times: { idle: number; max: number },
  o: Options = {},
): Promise<Run> {
  const root = mkdtempSync(join(tmpdir(), "mayfly-boot-"));
  const bin = join(root, "bin");
  const state = join(root, "run/mayfly");
  const runnerDir = join(root, "opt/actions-runner");
  const cloud = join(root, "var/lib/cloud/instances/i-0123");
  for (const dir of [bin, state, runnerDir, join(cloud, "scripts")])
    mkdirSync(dir, { recursive: true });
  writeFileSync(join(cloud, "user-data.txt"), `jit ${JIT}`);
  writeFileSync(join(cloud, "user-data.txt.i"), `jit ${JIT}`);
  writeFileSync(join(cloud, "scripts/runcmd"), "x");
  mkdirSync(join(root, "run/cloud-init"), { recursive: true });
  writeFileSync(join(root, "run/cloud-init/combined-cloud-config.json"), `{"jit":"${JIT}"}`);
  if (o.jit !== false) writeFileSync(join(state, "jitconfig"), JIT, { mode: 0o600 });
  writeFileSync(join(state, "idle-timeout"), String(times.idle));
  writeFileSync(join(state, "max-lifetime"), String(times.max));
  const exe = (path: string, body: string) => {
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
  };
  exe(join(bin, "shutdown"), `echo "$*" >> "${root}/poweroffs"`);
  exe(join(bin, "iptables"), `echo "$*" >> "${root}/iptables"`);
  exe(join(bin, "useradd"), "exit 0");
  exe(join(bin, "chown"), "exit 0");
  // runuser -u USER -- CMD ARGS: run CMD as ourselves, recording that it got a JIT config.
  exe(
    join(bin, "runuser"),
    `shift 3; case "$*" in *"--jitconfig ${JIT}"*) echo ok > "${root}/args";; esac; exec "$@"`,
  );
  if (o.download === undefined) exe(join(runnerDir, "run.sh"), runner);
  else {
    // The tarball the stand-in curl "downloads" holds the stand-in run.sh.
    const staging = join(root, "staging");
    mkdirSync(staging);
    exe(join(staging, "run.sh"), runner);
    spawnSync("tar", ["-czf", join(root, "runner.tgz"), "-C", staging, "run.sh"]);
    const sha = createHash("sha256")
      .update(readFileSync(join(root, "runner.tgz")))
      .digest("hex");
    writeFileSync(join(state, "runner-url"), "https://example.invalid/runner.tgz");
    writeFileSync(join(state, "runner-sha256"), o.download.sha256 ?? sha);
    exe(
      join(bin, "curl"),
      `while [ $# -gt 0 ]; do [ "$1" = --output ] && cp "${root}/runner.tgz" "$2"; shift; done; exit 0`,
    );
  }
  const env = {
    PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    MAYFLY_ROOT: root,
    MAYFLY_RUNNER_USER: "mayfly-test-no-such-user",
    MAYFLY_SHUTDOWN: join(bin, "shutdown"),
    MAYFLY_IPTABLES: join(bin, "iptables"),
    MAYFLY_USERADD: join(bin, "useradd"),
    MAYFLY_RUNUSER: join(bin, "runuser"),
    MAYFLY_CHOWN: join(bin, "chown"),
    MAYFLY_POLL_SECONDS: "0.1",
  };
  return new Promise((done) => {
    const child = spawn("sh", [SCRIPT], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => {
      // Give a stray watchdog time to (wrongly) power off a second time.
      setTimeout(() => {
        const file = join(root, "poweroffs");
        const poweroffs = existsSync(file) ? readFileSync(file, "utf8").trim().split("\n") : [];
        const argsFile = join(root, "args");
        const argsSeen = existsSync(argsFile) ? readFileSync(argsFile, "utf8").trim() : "";
        done({ code, output, poweroffs, root, argsSeen });
      }, 400);
    });
  });
}

function expectOnePowerOffAndNoSecretLeft(run: Run, reason: RegExp) {
  expect(run.poweroffs).toEqual(["-h now"]);
  expect(run.output).toMatch(reason);
  expect(run.output).not.toContain(JIT);
  expect(existsSync(join(run.root, "run/mayfly/jitconfig"))).toBe(false);
  const cloud = join(run.root, "var/lib/cloud/instances/i-0123");
  expect(existsSync(join(cloud, "user-data.txt"))).toBe(false);
  expect(existsSync(join(cloud, "user-data.txt.i"))).toBe(false);
  expect(existsSync(join(cloud, "scripts"))).toBe(false);
  expect(existsSync(join(run.root, "run/cloud-init/combined-cloud-config.json"))).toBe(false);
  // The runner user is kept from the instance metadata service.
  expect(readFileSync(join(run.root, "iptables"), "utf8")).toMatch(
    /-d 169\.254\.169\.254 -m owner --uid-owner mayfly-test-no-such-user -j REJECT/,
  );
  // The runner got its JIT config on the command line.
  expect(run.argsSeen).toBe("ok");
}

describe("the boot script in a sandbox", () => {
  it("a normal job: the runner exits 0 after its job, one power-off", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 });
    expectOnePowerOffAndNoSecretLeft(run, /runner exited with status 0/);
  });

  it("a runner crash: one power-off", async () => {
    const run = await sandbox(RUNNERS.crash, { idle: 5, max: 30 });
    expectOnePowerOffAndNoSecretLeft(run, /runner exited with status 3/);
  });

  it("no job before the idle timeout: the watchdog powers off once", async () => {
    const started = Date.now();
    const run = await sandbox(RUNNERS.idle, { idle: 1, max: 30 });
    expectOnePowerOffAndNoSecretLeft(run, /no job started within 1s/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("max lifetime reached during a job: the watchdog powers off once", async () => {
    const run = await sandbox(RUNNERS.longJob, { idle: 1, max: 2 });
    expectOnePowerOffAndNoSecretLeft(run, /max lifetime of 2s reached/);
    expect(run.output).not.toMatch(/no job started/);
  });

  it("downloads the runner when the image has none, checking its SHA-256", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { download: {} });
    expectOnePowerOffAndNoSecretLeft(run, /runner exited with status 0/);
  });

  it("refuses a runner tarball whose SHA-256 does not match: never starts it", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 5, max: 30 },
      { download: { sha256: "0".repeat(64) } },
    );
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/SHA-256 mismatch/);
    expect(run.argsSeen).toBe("");
    expect(run.code).not.toBe(0);
  });

  it("refuses to run without a JIT config, and still powers off once", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { jit: false });
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/no JIT config/);
    expect(run.argsSeen).toBe("");
  });
});
