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
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bootScript } from "../../src/runner-vm/render-user-data.js";

// The script as the rendered user data ships it (comment lines stripped), not the source.
const SCRIPT = join(mkdtempSync(join(tmpdir(), "mayfly-script-")), "mayfly-boot");
writeFileSync(SCRIPT, bootScript());
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

type Options = {
  jit?: boolean;
  download?: { sha256?: string };
  /** Hook scripts, written where the rendered cloud-config puts them. */
  hooks?: { boot?: string; jobStarted?: string; jobCompleted?: string };
  /** "none": no IPv6 stack; "no-ip6tables": the image lacks it; "broken": it fails. */
  ipv6?: "none" | "no-ip6tables" | "broken";
};

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
  // Each stand-in notes itself in "order", so tests can check what ran before what.
  const order = join(root, "order");
  exe(join(bin, "shutdown"), `echo "$*" >> "${root}/poweroffs"`);
  exe(join(bin, "iptables"), `echo iptables >> "${order}"; echo "$*" >> "${root}/iptables"`);
  if (o.ipv6 !== "none") {
    mkdirSync(join(root, "proc/net"), { recursive: true });
    writeFileSync(join(root, "proc/net/if_inet6"), "");
  }
  exe(
    join(bin, "ip6tables"),
    o.ipv6 === "broken"
      ? "exit 4"
      : `echo ip6tables >> "${order}"; echo "$*" >> "${root}/ip6tables"`,
  );
  exe(join(bin, "useradd"), `echo useradd >> "${order}"`);
  exe(join(bin, "chown"), "exit 0");
  // runuser -u USER -- CMD ARGS: run CMD as ourselves, recording that it got a JIT config.
  exe(
    join(bin, "runuser"),
    `echo "runuser $2" >> "${order}"; shift 3; case "$*" in *"--jitconfig ${JIT}"*) echo ok > "${root}/args";; esac; exec "$@"`,
  );
  const hookFile = (path: string, text: string | undefined, mode: number) => {
    if (text === undefined) return;
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text, { mode });
  };
  hookFile(join(state, "boot-hook"), o.hooks?.boot, 0o700);
  hookFile(join(root, "usr/local/lib/mayfly/job-started.sh"), o.hooks?.jobStarted, 0o755);
  hookFile(join(root, "usr/local/lib/mayfly/job-completed.sh"), o.hooks?.jobCompleted, 0o755);
  // Every stand-in run.sh first records the job hook variables of its environment.
  const runSh = `env | grep '^ACTIONS_RUNNER_HOOK_' | sort > "${root}/runner-env"\n${runner}`;
  if (o.download === undefined) exe(join(runnerDir, "run.sh"), runSh);
  else {
    // The tarball the stand-in curl "downloads" holds the stand-in run.sh.
    const staging = join(root, "staging");
    mkdirSync(staging);
    exe(join(staging, "run.sh"), runSh);
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
    MAYFLY_IP6TABLES:
      o.ipv6 === "no-ip6tables" ? join(bin, "no-such-ip6tables") : join(bin, "ip6tables"),
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
  expect(readFileSync(join(run.root, "ip6tables"), "utf8")).toMatch(
    /-d fd00:ec2::254 -m owner --uid-owner mayfly-test-no-such-user -j REJECT/,
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

const lines = (root: string, name: string) =>
  existsSync(join(root, name))
    ? readFileSync(join(root, name), "utf8").split("\n").filter(Boolean)
    : [];

describe("operator hooks in a sandbox", () => {
  // The hook notes its uid and whether the runner's work directory exists yet.
  const bootHook = (then: string) =>
    `#!/bin/sh\nwork=no; [ -d "$MAYFLY_ROOT/opt/actions-runner/_work" ] && work=yes\necho "boot-hook uid=$(id -u) work=$work" >> "$MAYFLY_ROOT/order"\n${then}\n`;

  it("runs the boot hook as root, after the runner user and work dir, before the runner", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 5, max: 30 },
      { hooks: { boot: bootHook("exit 0") } },
    );
    expectOnePowerOffAndNoSecretLeft(run, /runner exited with status 0/);
    // Run directly by the boot script (root on the VM), not through runuser.
    expect(lines(run.root, "order")).toEqual([
      "useradd",
      "iptables",
      "ip6tables",
      `boot-hook uid=${process.getuid?.()} work=yes`,
      "runuser mayfly-test-no-such-user",
    ]);
    expect(run.output).toMatch(/the boot hook succeeded/);
  });

  it("a failing boot hook: one power-off, and the runner never starts", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 5, max: 30 },
      { hooks: { boot: bootHook("exit 7") } },
    );
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/the boot hook failed with status 7: not starting the runner/);
    expect(run.argsSeen).toBe("");
    expect(lines(run.root, "order")).not.toContain("runuser mayfly-test-no-such-user");
    expect(run.code).not.toBe(0);
  });

  it("a boot hook that outlives the idle timeout: one power-off, and the runner never starts", async () => {
    const started = Date.now();
    const run = await sandbox(
      RUNNERS.job,
      { idle: 1, max: 30 },
      { hooks: { boot: bootHook("exec sleep 60") } },
    );
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/the boot hook timed out after 1s/);
    expect(run.argsSeen).toBe("");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("passes the job hooks to the runner in its environment, and it can run them", async () => {
    // Like the real runner: bash -e HOOK before and after the job.
    const runner = [
      'bash -e "$ACTIONS_RUNNER_HOOK_JOB_STARTED"',
      RUNNERS.job.replace("exit 0", ""),
      'bash -e "$ACTIONS_RUNNER_HOOK_JOB_COMPLETED"',
      "exit 0",
    ].join("\n");
    const note = (what: string) => `#!/bin/bash\necho ${what} >> "$MAYFLY_ROOT/order"\n`;
    const run = await sandbox(
      runner,
      { idle: 5, max: 30 },
      { hooks: { jobStarted: note("job-started"), jobCompleted: note("job-completed") } },
    );
    expectOnePowerOffAndNoSecretLeft(run, /runner exited with status 0/);
    const hooks = join(run.root, "usr/local/lib/mayfly");
    expect(lines(run.root, "runner-env")).toEqual([
      `ACTIONS_RUNNER_HOOK_JOB_COMPLETED=${hooks}/job-completed.sh`,
      `ACTIONS_RUNNER_HOOK_JOB_STARTED=${hooks}/job-started.sh`,
    ]);
    expect(lines(run.root, "order").slice(-3)).toEqual([
      "runuser mayfly-test-no-such-user",
      "job-started",
      "job-completed",
    ]);
  });

  it("sets only the variables of the job hooks the pool has", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 5, max: 30 },
      { hooks: { jobStarted: "#!/bin/sh\n" } },
    );
    expectOnePowerOffAndNoSecretLeft(run, /runner exited with status 0/);
    expect(lines(run.root, "runner-env")).toEqual([
      `ACTIONS_RUNNER_HOOK_JOB_STARTED=${join(run.root, "usr/local/lib/mayfly/job-started.sh")}`,
    ]);
    const none = await sandbox(RUNNERS.job, { idle: 5, max: 30 });
    expect(lines(none.root, "runner-env")).toEqual([]);
  });
});

describe("the IPv6 metadata endpoint in a sandbox", () => {
  it("no IPv6 stack: says so and runs the job without an ip6tables rule", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { ipv6: "none" });
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/no IPv6 stack/);
    expect(run.output).toMatch(/runner exited with status 0/);
    expect(existsSync(join(run.root, "ip6tables"))).toBe(false);
  });

  it("no ip6tables on the image: says so and runs the job", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { ipv6: "no-ip6tables" });
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/no ip6tables on this image/);
    expect(run.argsSeen).toBe("ok");
  });

  it("an ip6tables that fails: one power-off, and the runner never starts", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { ipv6: "broken" });
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/cannot block the IPv6 metadata service/);
    expect(run.argsSeen).toBe("");
  });
});
