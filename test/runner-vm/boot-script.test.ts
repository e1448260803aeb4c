import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
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
  /** "broken": iptables fails to add the IPv4 metadata block. */
  ipv4?: "broken";
  /** "none": no IPv6 stack; "no-ip6tables": the image lacks it; "broken": it fails. */
  ipv6?: "none" | "no-ip6tables" | "broken";
  /** The curl exit status the runner user's metadata probe gets: 7 when the block holds. */
  imdsProbe?: number;
  /** The stand-in curl's download of the runner lasts until the test releases it. */
  holdDownload?: boolean;
  /** The tarball bytes to serve instead of one holding the stand-in run.sh. */
  tarballBytes?: Buffer;
  /** The image already has the runner user, with this uid and these groups. */
  existingUser?: { uid: number; groups: string; sudo?: boolean };
  operatorAccess?: boolean;
  /** A unit that `systemctl stop` cannot stop. */
  stuckUnit?: string;
  /** How many times `shutdown` fails before it works. */
  shutdownFailures?: number;
  /** "fail": the hidepid remount fails. */
  mount?: "fail";
  /** Send the script SIGTERM after this many milliseconds. */
  termAfterMs?: number;
  /** Drives the watchdog's clock while the script runs (see Clock). */
  clock?: (clock: Clock) => Promise<void>;
};

/**
 * The watchdog's clock, injected: the sandbox's `date +%s` reads a file the test moves, so
 * the watchdog's decisions do not depend on how fast a loaded machine runs the boot steps
 * (a wall clock with whole seconds and a 1 s timeout could fire after 10 ms, or late).
 */
interface Clock {
  readonly root: string;
  /** Sets the time the watchdog reads, in seconds after the script started. */
  set(seconds: number): void;
  /** Resolves once `check` holds; fails, naming `what`, after 20 s. */
  until(what: string, check: () => boolean): Promise<void>;
  /**
   * Resolves once the watchdog has read the clock three more times, so at least one full
   * round of its loop saw the time last set, or once the script has powered off.
   */
  watchdogLooked(): Promise<void>;
  /** Lets a held download or a waiting boot hook finish. */
  release(what: "download" | "hook"): void;
}

const CLOCK_START = 1_800_000_000;
const REAL_DATE = spawnSync("sh", ["-c", "command -v date"], { encoding: "utf8" }).stdout.trim();

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
  exe(
    join(bin, "shutdown"),
    `n=$(cat "${root}/shutdown-calls" 2>/dev/null || echo 0); echo $((n + 1)) > "${root}/shutdown-calls"; [ "$n" -ge ${o.shutdownFailures ?? 0} ] || exit 1; echo "$*" >> "${root}/poweroffs"`,
  );
  exe(join(bin, "poweroff"), `echo "poweroff $*" >> "${root}/poweroffs"`);
  exe(
    join(bin, "mount"),
    `echo "mount $*" >> "${order}"; ${o.mount === "fail" ? "exit 32" : "exit 0"}`,
  );
  exe(
    join(bin, "systemctl"),
    `echo "$*" >> "${root}/systemctl"
case "$1" in
  list-units) echo "serial-getty@ttyS0.service loaded active running Serial Getty on ttyS0" ;;
  is-active) [ "$3" = "${o.stuckUnit ?? "none"}" ] && exit 0; exit 3 ;;
esac
exit 0`,
  );
  exe(
    join(bin, "sudo"),
    o.existingUser?.sudo
      ? "echo 'User runner may run the following commands on host:'"
      : "echo 'User runner is not allowed to run sudo on host.'",
  );
  if (o.existingUser !== undefined)
    exe(
      join(bin, "id"),
      `case "$1" in -u) echo ${o.existingUser.uid} ;; -Gn) echo "${o.existingUser.groups}" ;; esac; exit 0`,
    );
  // A broken iptables (no kernel support, no xtables lock) exits 4, as iptables does for a
  // resource problem; it still notes the rule it was asked for.
  exe(
    join(bin, "iptables"),
    `echo iptables >> "${order}"; echo "$*" >> "${root}/iptables"${o.ipv4 === "broken" ? "; exit 4" : ""}`,
  );
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
  // runuser -u USER -- CMD ARGS: run CMD as ourselves, recording whether it got the JIT
  // config in its environment and on no command line.
  exe(
    join(bin, "runuser"),
    `echo "runuser $2 $(basename "$4")" >> "${order}"; shift 3; case "$*" in *"${JIT}"*) echo on-cmdline > "${root}/args";; *) [ "\${ACTIONS_RUNNER_INPUT_JITCONFIG:-}" = "${JIT}" ] && echo ok > "${root}/args";; esac; exec "$@"`,
  );
  const hookFile = (path: string, text: string | undefined, mode: number) => {
    if (text === undefined) return;
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text, { mode });
  };
  hookFile(join(root, "usr/local/lib/mayfly/boot-hook"), o.hooks?.boot, 0o700);
  if (o.operatorAccess) writeFileSync(join(state, "operator-access"), "true");
  hookFile(join(root, "usr/local/lib/mayfly/job-started.sh"), o.hooks?.jobStarted, 0o755);
  hookFile(join(root, "usr/local/lib/mayfly/job-completed.sh"), o.hooks?.jobCompleted, 0o755);
  // Every stand-in run.sh first records the job hook variables of its environment.
  const runSh = `env | grep '^ACTIONS_RUNNER_HOOK_' | sort > "${root}/runner-env"\n${runner}`;
  // The stand-in curl: the metadata probe (run through runuser) gets imdsProbe; a download
  // writes the tarball where --output says, once released if holdDownload.
  const curl = (download: string) =>
    exe(
      join(bin, "curl"),
      `echo "$*" >> "${root}/curl"
case "$*" in *169.254.169.254* | *fd00:ec2::254*) exit ${o.imdsProbe ?? 7} ;; esac
${o.holdDownload ? `while [ ! -e "${root}/release-download" ]; do sleep 0.05; done` : ""}
${download}
exit 0`,
    );
  if (o.download === undefined) {
    exe(join(runnerDir, "run.sh"), runSh);
    curl("");
  } else {
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
    if (o.tarballBytes !== undefined) {
      writeFileSync(join(root, "runner.tgz"), o.tarballBytes);
      const bad = createHash("sha256").update(o.tarballBytes).digest("hex");
      writeFileSync(join(state, "runner-sha256"), bad);
    }
    curl(`while [ $# -gt 0 ]; do [ "$1" = --output ] && cp "${root}/runner.tgz" "$2"; shift; done`);
  }
  // `date +%s` reads the injected clock, noting each read; any other date is the real one.
  const clockFile = join(root, "clock");
  const setClock = (seconds: number) => {
    writeFileSync(`${clockFile}.new`, String(CLOCK_START + seconds));
    renameSync(`${clockFile}.new`, clockFile); // atomic: a read never sees a partial file
  };
  if (o.clock !== undefined) {
    setClock(0);
    exe(
      join(bin, "date"),
      `if [ "$*" = +%s ]; then echo read >> "${root}/clock-reads"; cat "${clockFile}"; else exec "${REAL_DATE}" "$@"; fi`,
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
    MAYFLY_POWEROFF: join(bin, "poweroff"),
    MAYFLY_MOUNT: join(bin, "mount"),
    MAYFLY_SYSTEMCTL: join(bin, "systemctl"),
    MAYFLY_SUDO: join(bin, "sudo"),
    MAYFLY_POLL_SECONDS: "0.1",
    MAYFLY_RETRY_SECONDS: "0.1",
  };
  return new Promise((done, failed) => {
    const child = spawn("sh", [SCRIPT], { env, stdio: ["ignore", "pipe", "pipe"] });
    if (o.termAfterMs !== undefined) setTimeout(() => child.kill("SIGTERM"), o.termAfterMs);
    let driverError: unknown;
    const poweredOff = () => existsSync(join(state, "powered-off"));
    const release = (what: "download" | "hook") => writeFileSync(join(root, `release-${what}`), "");
    const until = async (what: string, check: () => boolean) => {
      const deadline = Date.now() + 20_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    o.clock?.({
      root,
      set: setClock,
      until,
      watchdogLooked: () => {
        const seen = lines(root, "clock-reads").length;
        return until(
          "the watchdog read the clock three more times",
          () => lines(root, "clock-reads").length >= seen + 3 || poweredOff(),
        );
      },
      release,
    }).catch((error: unknown) => {
      // Let nothing hold the script, and stop it: the test fails with the driver's error.
      driverError = error;
      release("download");
      release("hook");
      child.kill("SIGTERM");
    });
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
        if (driverError === undefined) done({ code, output, poweroffs, root, argsSeen });
        else failed(driverError);
      }, 400);
    });
  });
}

const lines = (root: string, name: string) =>
  existsSync(join(root, name))
    ? readFileSync(join(root, name), "utf8").split("\n").filter(Boolean)
    : [];

const runnerStarted = (root: string) =>
  lines(root, "order").includes("runuser mayfly-test-no-such-user run.sh");
const poweredOff = (root: string) => lines(root, "poweroffs").length > 0;

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
    /^-w -I OUTPUT 1 -d 169\.254\.169\.254 -m owner --uid-owner mayfly-test-no-such-user -j REJECT$/m,
  );
  expect(readFileSync(join(run.root, "ip6tables"), "utf8")).toMatch(
    /^-w -I OUTPUT 1 -d fd00:ec2::254 -m owner --uid-owner mayfly-test-no-such-user -j REJECT$/m,
  );
  // The runner got its JIT config in its environment, on no command line.
  expect(run.argsSeen).toBe("ok");
  // Other users' processes are hidden from the runner user.
  expect(lines(run.root, "order")).toContain(`mount -o remount,hidepid=invisible ${run.root}/proc`);
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

  it("no job before the idle timeout: the watchdog powers off once, not a second early", async () => {
    const run = await sandbox(
      RUNNERS.idle,
      { idle: 600, max: 3600 },
      {
        clock: async (clock) => {
          await clock.until("the runner started", () => runnerStarted(clock.root));
          clock.set(599);
          await clock.watchdogLooked();
          expect(lines(clock.root, "poweroffs")).toEqual([]);
          clock.set(600);
          await clock.until("the watchdog powered off", () => poweredOff(clock.root));
        },
      },
    );
    expectOnePowerOffAndNoSecretLeft(run, /powering off: no job started within 600s/);
  });

  it("max lifetime reached during a job: the watchdog powers off once, not a second early", async () => {
    const run = await sandbox(
      RUNNERS.longJob,
      { idle: 600, max: 3600 },
      {
        clock: async (clock) => {
          await clock.until("the job started", () =>
            existsSync(join(clock.root, "opt/actions-runner/_diag/Worker_1.log")),
          );
          // Past the idle timeout with a job running: no power-off.
          clock.set(600);
          await clock.watchdogLooked();
          clock.set(3599);
          await clock.watchdogLooked();
          expect(lines(clock.root, "poweroffs")).toEqual([]);
          clock.set(3600);
          await clock.until("the watchdog powered off", () => poweredOff(clock.root));
        },
      },
    );
    expectOnePowerOffAndNoSecretLeft(run, /powering off: max lifetime of 3600s reached/);
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
      `mount -o remount,hidepid=invisible ${run.root}/proc`,
      "useradd",
      "iptables",
      "ip6tables",
      "runuser mayfly-test-no-such-user curl",
      "runuser mayfly-test-no-such-user curl",
      `boot-hook uid=${process.getuid?.()} work=yes`,
      "runuser mayfly-test-no-such-user run.sh",
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
    expect(lines(run.root, "order")).not.toContain("runuser mayfly-test-no-such-user run.sh");
    expect(run.code).not.toBe(0);
  });

  it("a boot hook that outlives the idle timeout: one power-off, and the runner never starts", async () => {
    // The hook runs until the test releases it, after the watchdog has powered off.
    const hangs = `while [ ! -e "$MAYFLY_ROOT/release-hook" ]; do sleep 0.05; done`;
    const run = await sandbox(
      RUNNERS.job,
      { idle: 600, max: 3600 },
      {
        hooks: { boot: bootHook(hangs) },
        clock: async (clock) => {
          await clock.until("the boot hook started", () =>
            lines(clock.root, "order").some((l) => l.startsWith("boot-hook")),
          );
          clock.set(600);
          await clock.until("the watchdog powered off", () => poweredOff(clock.root));
          clock.release("hook");
        },
      },
    );
    expect(run.poweroffs).toEqual(["-h now"]);
    // The idle timeout counts from before the hook (the watchdog starts first), so the
    // watchdog's power-off comes first; the hook's own time limit is the second wall.
    expect(run.output).toMatch(/powering off: no job started within 600s/);
    expect(run.argsSeen).toBe("");
    expect(lines(run.root, "order")).not.toContain("runuser mayfly-test-no-such-user run.sh");
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
      "runuser mayfly-test-no-such-user run.sh",
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

describe("the IPv4 metadata block in a sandbox", () => {
  it("an iptables that fails: one power-off, and the runner never starts", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { ipv4: "broken" });
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(
      /powering off: cannot block the metadata service for mayfly-test-no-such-user: refusing to run the job/,
    );
    // It was asked for the rule, and nothing after it ran: no probe, no IPv6 rule, no runner.
    expect(lines(run.root, "iptables")).toEqual([
      "-w -I OUTPUT 1 -d 169.254.169.254 -m owner --uid-owner mayfly-test-no-such-user -j REJECT",
    ]);
    expect(lines(run.root, "order")).not.toContain("ip6tables");
    expect(lines(run.root, "order")).not.toContain("runuser mayfly-test-no-such-user run.sh");
    expect(lines(run.root, "curl")).toEqual([]);
    expect(run.argsSeen).toBe("");
    expect(run.output).not.toContain(JIT);
    expect(run.code).not.toBe(0);
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

describe("the metadata block is verified in a sandbox", () => {
  it("probes it as the runner user over IPv4 and IPv6 before the runner starts", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 });
    expectOnePowerOffAndNoSecretLeft(run, /the metadata service is blocked/);
    const probes = lines(run.root, "curl");
    expect(probes).toHaveLength(2);
    expect(probes[0]).toMatch(/--request PUT .*http:\/\/169\.254\.169\.254\/latest\/api\/token$/);
    expect(probes[1]).toMatch(/http:\/\/\[fd00:ec2::254\]\/latest\/api\/token$/);
  });

  it("a block that does not hold (the probe gets an answer): one power-off, no runner", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { imdsProbe: 0 });
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/the metadata block does not hold .*curl status 0/);
    expect(run.argsSeen).toBe("");
  });
});

describe("operator access in a sandbox", () => {
  it("stops and masks the SSM agent and serial-console gettys by default", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 });
    expectOnePowerOffAndNoSecretLeft(run, /operator access closed/);
    const calls = lines(run.root, "systemctl");
    const units =
      "amazon-ssm-agent.service snap.amazon-ssm-agent.amazon-ssm-agent.service serial-getty@ttyS0.service";
    expect(calls).toContain(`stop ${units}`);
    // The template too, so that no new serial getty starts later.
    expect(calls).toContain(`mask serial-getty@.service ${units}`);
  });

  it("operatorAccess: leaves them alone", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { operatorAccess: true });
    expectOnePowerOffAndNoSecretLeft(run, /operator access kept/);
    expect(lines(run.root, "systemctl")).toEqual([]);
  });

  it("a back door that will not stop: one power-off, no runner", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 5, max: 30 },
      { stuckUnit: "amazon-ssm-agent.service" },
    );
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/cannot stop amazon-ssm-agent.service/);
    expect(run.argsSeen).toBe("");
  });

  it("hidepid that cannot be set: one power-off, no runner", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { mount: "fail" });
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/cannot hide other users' processes/);
    expect(run.argsSeen).toBe("");
  });
});

describe("an image's own runner user in a sandbox", () => {
  it.each([
    ["uid 0", { uid: 0, groups: "root" }, /has uid 0/],
    ["in sudo", { uid: 1000, groups: "runner sudo" }, /is in the sudo group/],
    ["in wheel", { uid: 1000, groups: "runner wheel" }, /is in the wheel group/],
    ["in adm", { uid: 1000, groups: "adm runner" }, /is in the adm group/],
    ["in docker", { uid: 1000, groups: "runner docker" }, /is in the docker group/],
    ["with sudo rights", { uid: 1000, groups: "runner", sudo: true }, /has sudo rights/],
  ] as const)("is refused when %s: one power-off, no runner", async (_name, user, reason) => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { existingUser: user });
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(reason);
    expect(run.argsSeen).toBe("");
    expect(lines(run.root, "order")).not.toContain("useradd");
  });

  it("is used as it is when unprivileged", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 5, max: 30 },
      { existingUser: { uid: 1000, groups: "runner users" } },
    );
    expectOnePowerOffAndNoSecretLeft(run, /runner exited with status 0/);
    expect(lines(run.root, "order")).not.toContain("useradd");
  });
});

describe("power-off on every path in a sandbox", () => {
  it("a shutdown that fails is retried", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { shutdownFailures: 1 });
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/shutdown failed: retrying/);
  });

  it("a shutdown that fails twice falls back to poweroff -f", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { shutdownFailures: 2 });
    expect(run.poweroffs).toEqual(["poweroff -f"]);
    expect(run.output).toMatch(/forcing the power-off/);
  });

  it("the watchdog runs during the download: a slow one ends at the idle timeout", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 600, max: 3600 },
      {
        download: {},
        holdDownload: true,
        clock: async (clock) => {
          await clock.until("the download started", () =>
            lines(clock.root, "curl").some((l) => l.includes("example.invalid")),
          );
          clock.set(600);
          await clock.until("the watchdog powered off", () => poweredOff(clock.root));
          clock.release("download");
        },
      },
    );
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/powering off: no job started within 600s/);
    expect(run.argsSeen).toBe("");
  });

  it("curl has connect, stall and total time limits", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { download: {} });
    expectOnePowerOffAndNoSecretLeft(run, /runner exited with status 0/);
    const download = lines(run.root, "curl").find((l) => l.includes("example.invalid"));
    expect(download).toMatch(
      /--connect-timeout 30 --speed-limit 1024 --speed-time 30 --max-time 5 /,
    );
  });

  it("a step that fails unexpectedly (a corrupt tarball) still powers off once", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 5, max: 30 },
      { download: {}, tarballBytes: Buffer.from("not a tarball") },
    );
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/powering off: the boot script ended/);
    expect(run.argsSeen).toBe("");
    expect(run.code).not.toBe(0);
  });

  it("SIGTERM while the runner waits: one power-off, and the runner is stopped", async () => {
    const started = Date.now();
    const run = await sandbox(RUNNERS.idle, { idle: 30, max: 60 }, { termAfterMs: 1500 });
    expect(run.poweroffs).toEqual(["-h now"]);
    expect(run.output).toMatch(/powering off: the boot script ended/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
