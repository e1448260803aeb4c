import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AssignmentAnswer } from "../../src/assignment/assignments.js";
import { trustCertificate } from "../../src/assignment/trusted-certificate.js";
import { Secret } from "../../src/config/secret.js";
import type { Rate } from "../../src/core/token-bucket.js";
import { bootScript } from "../../src/runner-vm/render-user-data.js";
import { renderIdentityDocument } from "../../src/sim/identity/render-identity-document.js";
import { createIdentitySigner } from "../../src/sim/identity/sign-identity.js";
import { type AssignmentEndpoint, assignmentEndpoint } from "../support/assignment-endpoint.js";
import { type FakeImds, fakeImds, type ServedIdentity } from "../support/fake-imds.js";

// The script as the rendered user data ships it (comment lines stripped), not the source.
const SCRIPT = join(mkdtempSync(join(tmpdir(), "mayfly-script-")), "mayfly-boot");
writeFileSync(SCRIPT, bootScript());
// A JIT config as GitHub encodes one: base64 of JSON, long enough to be unmistakable.
const JIT = Buffer.from(
  JSON.stringify({ ".runner": "eyJBZ2VudElkIjo0Mn0=", ".credentials": "x".repeat(60) }),
).toString("base64");
const JIT_SHA256 = createHash("sha256").update(JIT).digest("hex");
const ASSIGNED: AssignmentAnswer = { kind: "assigned", jitConfig: new Secret(JIT) };

// AWS's signing key and certificate, played by a test signer the controller trusts.
const signer = createIdentitySigner();
const TRUSTED = [trustCertificate(signer.certificatePem, { name: "test" })];
let instances = 0;
/** A fresh instance's identity document as IMDS serves it, and its name. */
function documentOf(): { instanceId: string; document: string } {
  const instanceId = `i-0${(++instances).toString(16).padStart(16, "0")}`;
  const document = renderIdentityDocument({
    accountId: "123456789012",
    region: "eu-west-1",
    instanceId,
    pendingTime: "2026-12-03T06:00:00Z",
    availabilityZone: "eu-west-1a",
    instanceType: "m7i.large",
  });
  return { instanceId, document };
}

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
  /** What IMDS served: the document and signature the controller must get exactly. */
  served: { document: string | Buffer; signature: string | Buffer };
  imds: FakeImds["requests"];
  /** The controller's side; undefined when it was down. */
  endpoint: AssignmentEndpoint | undefined;
};

type Options = {
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
  /**
   * The assignment service behind the real route: its answer to the nth verified ask is
   * answers[n - 1] (the last one repeats; "throw": it fails, a 500). "down": nothing listens.
   * By default the first ask is answered the JIT config.
   */
  controller?: (AssignmentAnswer | "throw")[] | "down";
  /** The route's rate limit, on a clock that moves one second per answer. */
  rate?: Rate;
  /**
   * What IMDS serves: by default a document signed by the key the controller trusts;
   * "untrusted": signed by another key; "none": no identity at all (404).
   */
  identity?: ServedIdentity | "untrusted" | "none";
  /** The boot timeout data file; null: the file is missing. */
  bootTimeout?: number | null;
  /** The assignment URL data file; null: the file is missing. */
  assignmentUrl?: null;
};

/**
 * The watchdog's clock, injected: the sandbox's `date +%s` reads a file the test moves, so
 * the watchdog's decisions do not depend on how fast a loaded machine runs the boot steps
 * (a wall clock with whole seconds and a 1 s timeout could fire after 10 ms, or late).
 * The boot timeout is counted on the same clock.
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
const REAL_CURL = spawnSync("sh", ["-c", "command -v curl"], { encoding: "utf8" }).stdout.trim();

/** A local port nothing listens on: a controller that is down. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 9));
    });
  });
}

async function sandbox(
  runner: string,
  times: { idle: number; max: number },
  o: Options = {},
): Promise<Run> {
  const root = mkdtempSync(join(tmpdir(), "mayfly-boot-"));
  const bin = join(root, "bin");
  const state = join(root, "run/mayfly");
  const runnerDir = join(root, "opt/actions-runner");
  for (const dir of [bin, state, runnerDir]) mkdirSync(dir, { recursive: true });

  // The metadata service and the controller, both on 127.0.0.1 for this run only.
  const { instanceId, document } = documentOf();
  const served: ServedIdentity =
    typeof o.identity === "object"
      ? o.identity
      : {
          document,
          signature: (o.identity === "untrusted" ? createIdentitySigner() : signer).sign(document),
        };
  const imds = await fakeImds({
    instanceId,
    ...(o.identity === "none" ? {} : { identity: served }),
  });
  const answers = o.controller ?? [ASSIGNED];
  let endpoint: AssignmentEndpoint | undefined;
  if (answers !== "down") {
    endpoint = await assignmentEndpoint({
      trusted: TRUSTED,
      answer: (_identity, nth) => {
        const answer = answers[Math.min(nth, answers.length) - 1] ?? ASSIGNED;
        if (answer === "throw") throw new Error("the assignment service failed");
        return answer;
      },
      now: () => new Date(Date.UTC(2026, 11, 3, 6, 1) + 1000 * (endpoint?.statuses.length ?? 0)),
      ...(o.rate === undefined ? {} : { rate: o.rate }),
    });
  }
  const assignmentUrl =
    endpoint?.url ?? `http://127.0.0.1:${await closedPort()}/runner/v1/assignment`;

  if (o.assignmentUrl !== null) writeFileSync(join(state, "assignment-url"), assignmentUrl);
  if (o.bootTimeout !== null)
    writeFileSync(join(state, "boot-timeout"), String(o.bootTimeout ?? 20));
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
  // config in its environment (compared by its SHA-256: no file here holds the JIT config)
  // and on no command line.
  exe(
    join(bin, "runuser"),
    `echo "runuser $2 $(basename "$4")" >> "${order}"; shift 3
jit=\${ACTIONS_RUNNER_INPUT_JITCONFIG:-}
if [ -n "$jit" ]; then
  case "$*" in
    *"$jit"*) echo on-cmdline > "${root}/args" ;;
    *) [ "$(printf %s "$jit" | sha256sum | cut -d ' ' -f 1)" = ${JIT_SHA256} ] && echo ok > "${root}/args" ;;
  esac
fi
exec "$@"`,
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
  // The stand-in curl: what goes to 127.0.0.1 (the metadata service and the controller of
  // this run) is the real curl, noted in "curl-real"; the runner user's metadata probe (run
  // through runuser) gets imdsProbe; a download writes the tarball where --output says, once
  // released if holdDownload.
  const curl = (download: string) =>
    exe(
      join(bin, "curl"),
      `case "$*" in *127.0.0.1*)
  printf '%s\\n' "$*" >> "${root}/curl-real"
  case "$*" in *"/runner/v1/assignment"*) echo assignment >> "${order}" ;; esac
  exec "${REAL_CURL}" "$@" ;;
esac
echo "$*" >> "${root}/curl"
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
    MAYFLY_IMDS_URL: `http://127.0.0.1:${imds.port}`,
    MAYFLY_POLL_SECONDS: "0.1",
    MAYFLY_RETRY_SECONDS: "0.1",
    MAYFLY_BACKOFF_SECONDS: "0.05",
    MAYFLY_BACKOFF_CAP_SECONDS: "0.2",
  };
  try {
    return await new Promise((done, failed) => {
      const child = spawn("sh", [SCRIPT], { env, stdio: ["ignore", "pipe", "pipe"] });
      if (o.termAfterMs !== undefined) setTimeout(() => child.kill("SIGTERM"), o.termAfterMs);
      let driverError: unknown;
      const poweredOff = () => existsSync(join(state, "powered-off"));
      const release = (what: "download" | "hook") =>
        writeFileSync(join(root, `release-${what}`), "");
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
          if (driverError !== undefined) return failed(driverError);
          done({ code, output, poweroffs, root, argsSeen, served, imds: imds.requests, endpoint });
        }, 400);
      });
    });
  } finally {
    await imds.close();
    await endpoint?.close();
  }
}

const lines = (root: string, name: string) =>
  existsSync(join(root, name))
    ? readFileSync(join(root, name), "utf8").split("\n").filter(Boolean)
    : [];

/** Every file under `dir` whose bytes hold `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => readFileSync(path).includes(needle));
}

const runnerStarted = (root: string) =>
  lines(root, "order").includes("runuser mayfly-test-no-such-user run.sh");
const poweredOff = (root: string) => lines(root, "poweroffs").length > 0;
const asks = (root: string) => lines(root, "order").filter((l) => l === "assignment").length;

function expectOnePowerOffAndNoSecretLeft(run: Run, reason: RegExp) {
  expect(run.poweroffs).toEqual(["-h now"]);
  expect(run.output).toMatch(reason);
  expect(run.output).not.toContain(JIT);
  // The JIT config never touched the disk: not a state file, not a log, not a stand-in's note.
  expect(filesHolding(run.root, JIT)).toEqual([]);
  expect(existsSync(join(run.root, "run/mayfly/jitconfig"))).toBe(false);
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

/** One power-off for `reason`, and the runner never started. */
function expectRefusedToRun(run: Run, reason: RegExp) {
  expect(run.poweroffs).toEqual(["-h now"]);
  expect(run.output).toMatch(reason);
  expect(run.argsSeen).toBe("");
  expect(runnerStarted(run.root)).toBe(false);
  expect(run.code).not.toBe(0);
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

  it.each([
    ["no assignment URL", { assignmentUrl: null }, /no assignment URL/],
    ["no boot timeout", { bootTimeout: null }, /boot timeout is not a positive integer/],
  ] as [string, Options, RegExp][])(
    "refuses to run with %s, and still powers off once",
    async (_name, over, reason) => {
      const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, over);
      expectRefusedToRun(run, reason);
      expect(run.imds).toEqual([]);
      expect(run.endpoint?.statuses).toEqual([]);
    },
  );
});

describe("the assignment in a sandbox (the real route and verifier)", () => {
  const gone: AssignmentAnswer = { kind: "gone", reason: "runner-started" };
  const wait: AssignmentAnswer = { kind: "wait", retryAfterSeconds: 1 };
  const controllerAsks = (run: Run) =>
    lines(run.root, "curl-real").filter((l) => l.includes("/runner/v1/assignment"));

  it("asks with the identity IMDS served, and the runner gets the JIT config in its environment only", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 5, max: 30 }, { bootTimeout: 600 });
    expectOnePowerOffAndNoSecretLeft(run, /runner exited with status 0/);
    expect(run.output).toMatch(/assignment received/);
    // IMDSv2: a session token first, then the document and its signature with the token.
    expect(run.imds).toEqual([
      { method: "PUT", url: "/latest/api/token", token: false },
      { method: "GET", url: "/latest/dynamic/instance-identity/document", token: true },
      { method: "GET", url: "/latest/dynamic/instance-identity/rsa2048", token: true },
    ]);
    // Exactly what IMDS served: the pretty-printed document with no final newline, and the
    // signature still wrapped at 76 columns.
    expect(run.endpoint?.statuses).toEqual([200]);
    const body = JSON.parse(String(run.endpoint?.bodies[0])) as Record<string, unknown>;
    expect(body).toEqual({ document: run.served.document, signature: run.served.signature });
    expect(String(run.served.document)).toMatch(/^\{\n {2}"accountId" : "\d{12}",\n[\s\S]*\}$/);
    expect(String(run.served.signature).split("\n")[0]).toHaveLength(76);
    // The session token went to curl on stdin, not on its command line (nor in a log).
    expect(lines(run.root, "curl-real").join("\n")).not.toContain("fake-imds-session-token");
    expect(controllerAsks(run)[0]).toMatch(
      /--proto =https,http --connect-timeout 10 --max-time 30 .*http:\/\/127\.0\.0\.1:\d+\/runner\/v1\/assignment$/,
    );
    expect(run.endpoint?.logLines()).not.toContain(JIT);
  });

  it("nothing yet (204), then too many asks (429): waits as told each time, then runs the job", async () => {
    // The route's clock moves one second per answer: the second ask finds the bucket empty.
    const run = await sandbox(
      RUNNERS.job,
      { idle: 30, max: 60 },
      { controller: [wait, ASSIGNED], rate: { capacity: 1, perSecond: 0.5 } },
    );
    expectOnePowerOffAndNoSecretLeft(run, /runner exited with status 0/);
    expect(run.endpoint?.statuses).toEqual([204, 429, 200]);
    expect(run.output).toMatch(/no assignment yet \(HTTP 204\): waiting as the controller says/);
    // The identity is read once and sent again as it was.
    expect(run.imds).toHaveLength(3);
    expect(new Set(run.endpoint?.bodies.map(String)).size).toBe(1);
  });

  it("a controller failing (500): asks again after a short pause, then runs the job", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 30, max: 60 },
      { controller: ["throw", ASSIGNED] },
    );
    expectOnePowerOffAndNoSecretLeft(run, /runner exited with status 0/);
    expect(run.endpoint?.statuses).toEqual([500, 200]);
    expect(run.output).toMatch(/the controller answered HTTP 500: asking again in 0\.05s/);
  });

  it("410 (no assignment for this VM): one power-off, and the runner never starts", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 30, max: 60 }, { controller: [gone] });
    expectRefusedToRun(
      run,
      /powering off: the controller has no assignment for this VM \(HTTP 410\)/,
    );
    expect(run.endpoint?.statuses).toEqual([410]);
    expect(lines(run.root, "order")).toEqual(["assignment"]);
  });

  it("401 (a signature the controller does not trust): one power-off, and the runner never starts", async () => {
    const run = await sandbox(RUNNERS.job, { idle: 30, max: 60 }, { identity: "untrusted" });
    expectRefusedToRun(run, /powering off: the controller refused the assignment with HTTP 401/);
    expect(run.endpoint?.statuses).toEqual([401]);
    expect(run.endpoint?.asked).toEqual([]);
  });

  it("403 (not a VM of this fleet): one power-off, and the runner never starts", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 30, max: 60 },
      { controller: [{ kind: "refuse", reason: "unknown-instance" }] },
    );
    expectRefusedToRun(run, /powering off: the controller refused the assignment with HTTP 403/);
    expect(run.endpoint?.statuses).toEqual([403]);
  });

  it("an answer without a base64 JIT config: one power-off, and the runner never starts", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 30, max: 60 },
      { controller: [{ kind: "assigned", jitConfig: new Secret("not base64; $(reboot)") }] },
    );
    expectRefusedToRun(run, /powering off: the controller's answer holds no base64 JIT config/);
    expect(run.output).not.toContain("reboot");
  });

  it("a controller that is down past the boot timeout: asks again and again, then one power-off", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 600, max: 3600 },
      {
        controller: "down",
        bootTimeout: 300,
        clock: async (clock) => {
          await clock.until("the VM asked three times", () => asks(clock.root) >= 3);
          clock.set(299);
          const before = asks(clock.root);
          await clock.until("the VM asked again", () => asks(clock.root) > before);
          expect(lines(clock.root, "poweroffs")).toEqual([]);
          clock.set(300);
          await clock.until("the VM powered off", () => poweredOff(clock.root));
        },
      },
    );
    expectRefusedToRun(run, /powering off: no assignment within 300s/);
    expect(run.output).toMatch(
      /cannot reach the controller \(curl status 7\): asking again in 0\.05s/,
    );
    // The pause doubles up to its cap.
    expect(run.output).toMatch(/asking again in 0\.1s/);
    expect(run.output).toMatch(/asking again in 0\.2s/);
    expect(run.output).not.toMatch(/asking again in 0\.4s/);
    // An ask a second before the boot timeout waits a second for its answer, not 30.
    expect(controllerAsks(run).at(-1)).toMatch(/--max-time 1 /);
  });

  it("a metadata service without an identity document: no ask, and one power-off at the boot timeout", async () => {
    const run = await sandbox(
      RUNNERS.job,
      { idle: 600, max: 3600 },
      {
        identity: "none",
        bootTimeout: 120,
        clock: async (clock) => {
          await clock.until("IMDS was tried", () => lines(clock.root, "curl-real").length >= 4);
          clock.set(120);
          await clock.until("the VM powered off", () => poweredOff(clock.root));
        },
      },
    );
    expectRefusedToRun(run, /powering off: no assignment within 120s/);
    expect(run.output).toMatch(/cannot read the instance identity document from IMDS/);
    expect(run.endpoint?.statuses).toEqual([]);
  });

  // The controller compares the document with the signed content byte for byte, so the
  // script's JSON must carry it exactly: these documents are signed and must pass the real
  // verifier. Tabs, CR LF, quotes, backslashes and non-ASCII are all valid in JSON text.
  it.each([
    ["with a final newline", (d: string) => `${d}\n`],
    [
      "with CR LF, tabs and blank lines",
      (d: string) => `${d.replace(/\n {2}/g, "\r\n\t")}\r\n\r\n`,
    ],
    [
      "with escapes, quotes and non-ASCII in a field",
      (d: string) =>
        d.replace(/\n\}$/, ',\n  "note" : "a \\"quoted\\" back\\\\slash\\t\\u0001 é 🚀 \u2028"\n}'),
    ],
  ])("a document %s reaches the verifier exactly and the job runs", async (_name, shape) => {
    const document = shape(documentOf().document);
    const run = await sandbox(
      RUNNERS.job,
      { idle: 30, max: 60 },
      { identity: { document, signature: signer.sign(document) } },
    );
    expectOnePowerOffAndNoSecretLeft(run, /runner exited with status 0/);
    expect(run.endpoint?.statuses).toEqual([200]);
  });

  it("every control character, quote and backslash reaches the controller exactly", async () => {
    // Not a valid document (raw control characters are not JSON): the route checks the bytes
    // against the signed content first, and only then fails to read them as JSON.
    let bytes = "";
    for (let code = 1; code < 128; code++) bytes += String.fromCharCode(code);
    const document = `${bytes} é\n\n`;
    const run = await sandbox(
      RUNNERS.job,
      { idle: 30, max: 60 },
      { identity: { document, signature: signer.sign(document) } },
    );
    expectRefusedToRun(run, /refused the assignment with HTTP 401/);
    const body = JSON.parse(String(run.endpoint?.bodies[0])) as { document: string };
    expect(body.document).toBe(document);
    expect(run.endpoint?.logLines()).toContain("the signed document is not JSON");
  });

  it("a NUL byte from IMDS: one power-off, and nothing is sent", async () => {
    const document = Buffer.from('{"a" : "\u0000"}');
    const run = await sandbox(
      RUNNERS.job,
      { idle: 30, max: 60 },
      { identity: { document, signature: "QUJD" } },
    );
    expectRefusedToRun(run, /the instance identity from IMDS holds a NUL byte/);
    expect(run.endpoint?.statuses).toEqual([]);
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
    // Run directly by the boot script (root on the VM), not through runuser; the assignment
    // comes first, before the runner user exists.
    expect(lines(run.root, "order")).toEqual([
      "assignment",
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
