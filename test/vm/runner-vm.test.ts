import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import type { AssignmentAnswer } from "../../src/assignment/assignments.js";
import { trustCertificate } from "../../src/assignment/trusted-certificate.js";
import { Secret } from "../../src/config/secret.js";
import { renderUserData, type UserDataInput } from "../../src/runner-vm/render-user-data.js";
import { renderIdentityDocument } from "../../src/sim/identity/render-identity-document.js";
import { createIdentitySigner } from "../../src/sim/identity/sign-identity.js";
import { ASSIGNMENT_IP, bootVm, TARBALL_IP, type VmRun } from "./boot-vm.js";
import { selfSignedCert } from "./servers.js";
import { EVIDENCE_DIR, type RunnerMode, standInRunner, vendorData } from "./stand-in.js";

const image = inject("vmImage");
const tls = image === null ? undefined : selfSignedCert(TARBALL_IP, ASSIGNMENT_IP);
// AWS's identity signing key, played by a test signer the assignment endpoint trusts.
const signer = image === null ? undefined : createIdentitySigner();

function tarballOf(runSh: string): { body: Buffer; sha256: string } {
  const dir = mkdtempSync(join(tmpdir(), "mayfly-vm-tarball-"));
  writeFileSync(join(dir, "run.sh"), runSh);
  chmodSync(join(dir, "run.sh"), 0o755);
  spawnSync("tar", ["-czf", join(dir, "runner.tgz"), "-C", dir, "run.sh"]);
  const body = readFileSync(join(dir, "runner.tgz"));
  return { body, sha256: createHash("sha256").update(body).digest("hex") };
}

type Variant = {
  name: string;
  mode: RunnerMode;
  idle?: number;
  max?: number;
  /** Download the runner (with this checksum, or the right one) instead of preinstalling it. */
  download?: { mode: "serve" | "stall"; sha256?: string };
  hooks?: UserDataInput["hooks"];
  operatorAccess?: boolean;
  imageCommands?: string[];
  /** What the controller answers this VM: by default its JIT config, at the first ask. */
  answer?: AssignmentAnswer;
};

async function boot(v: Variant): Promise<VmRun & { jit: string; instanceId: string }> {
  if (image === null || tls === undefined || signer === undefined) throw new Error("no VM image");
  // Long enough that journald would compress it were it not small: < 512 bytes stays raw,
  // so the runner user's own scan of the journal files finds it too.
  const jit = randomBytes(240).toString("base64");
  const instanceId = `i-0${createHash("sha256").update(v.name).digest("hex").slice(0, 16)}`;
  const document = renderIdentityDocument({
    accountId: "123456789012",
    region: "eu-west-1",
    instanceId,
    pendingTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    availabilityZone: "eu-west-1a",
    instanceType: "m7i.large",
  });
  const runner = standInRunner(v.mode);
  const tarball = v.download === undefined ? undefined : tarballOf(runner);
  const userData = renderUserData({
    assignmentUrl: `https://${ASSIGNMENT_IP}/runner/v1/assignment`,
    bootTimeoutSeconds: 300,
    idleTimeoutSeconds: v.idle ?? 600,
    maxLifetimeSeconds: v.max ?? 3600,
    ...(tarball === undefined
      ? {}
      : {
          runner: {
            tarballUrl: `https://${TARBALL_IP}/actions-runner-linux-x64.tar.gz`,
            sha256: v.download?.sha256 ?? tarball.sha256,
          },
        }),
    ...(v.hooks === undefined ? {} : { hooks: v.hooks }),
    ...(v.operatorAccess === undefined ? {} : { operatorAccess: v.operatorAccess }),
  });
  const run = await bootVm(image, {
    name: v.name,
    userData,
    vendorData: vendorData({
      trustedCert: tls.cert,
      ...(tarball === undefined ? { runner } : {}),
      ...(v.imageCommands === undefined ? {} : { imageCommands: v.imageCommands }),
    }),
    needle: jit,
    instanceId,
    identity: { document, signature: signer.sign(document) },
    assignment: {
      tls,
      trusted: [trustCertificate(signer.certificatePem, { name: "test" })],
      answer: () => v.answer ?? { kind: "assigned", jitConfig: new Secret(jit) },
    },
    ...(tarball && v.download
      ? { tarball: { tls, body: tarball.body, mode: v.download.mode } }
      : {}),
    hardTimeoutSeconds: 600,
  });
  console.log(`VM ${v.name}: QEMU exited after ${run.seconds}s`);
  return { ...run, jit, instanceId };
}

/** The boot script's own requests to IMDS: a session token, the document, its signature. */
const IDENTITY_READ = [
  { method: "PUT", url: "/latest/api/token", token: false },
  { method: "GET", url: "/latest/dynamic/instance-identity/document", token: true },
  { method: "GET", url: "/latest/dynamic/instance-identity/rsa2048", token: true },
];

const powerOffs = (run: VmRun) =>
  run.bootLog.filter((m) => m.startsWith("mayfly-boot: powering off:"));

/** QEMU exited by itself after exactly one power-off, and the JIT config is nowhere. */
function expectOnePowerOff(run: VmRun, reason: RegExp) {
  expect(run.timedOut, `hard timeout; console:\n${run.console.slice(-3000)}`).toBe(false);
  expect(run.exitCode).toBe(0);
  expect(powerOffs(run), run.bootLog.join("\n")).toHaveLength(1);
  expect(powerOffs(run)[0]).toMatch(reason);
  expect(run.filesWithNeedle).toEqual([]);
  expect(run.journalEntriesWithNeedle).toBe(0);
}

const fields = (text: string | undefined) => {
  const lines = (text ?? "").split("\n").filter(Boolean);
  const all = (key: string) =>
    lines.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
  return { get: (key: string) => all(key)[0], all };
};

/**
 * What the stand-in runner saw as the runner user: in its environment, the JIT config the
 * controller answered, and nothing that is not its own.
 */
function expectConfinedRunner(run: VmRun & { jit: string }) {
  const seen = fields(run.evidence.runner);
  expect(seen.get("done"), `runner evidence:\n${run.evidence.runner}`).toBe("yes");
  expect(seen.get("uid")).not.toBe("0");
  expect(seen.get("groups")?.split(" ")).not.toContain("sudo");
  expect(seen.get("jit_received")).toBe("yes");
  expect(seen.get("jit_sha256")).toBe(createHash("sha256").update(run.jit).digest("hex"));
  expect(seen.get("sudo")).toBe("no");
  expect(seen.get("read_run_mayfly")).toBe("no");
  expect(seen.get("read_boot_hook")).toBe("no");
  // 7: curl could not connect (the REJECT rule); the fake IMDS would answer otherwise.
  expect(seen.get("imds4")).toBe("7");
  expect(["7", "28"]).toContain(seen.get("imds6"));
  expect(seen.get("proc1_visible")).toBe("no");
  expect(seen.get("proc_options")).toMatch(/hidepid=invisible/);
  expect(seen.all("jit_file")).toEqual([]);
  expect(seen.all("jit_cmdline")).toEqual([]);
  // The runner's own processes keep the variable they started with (README: the job can
  // read its own runner's credentials); no other user's process is even visible.
  for (const hit of seen.all("jit_environ")) expect(hit).toMatch(/:runner$/);
}

describe.runIf(image !== null).concurrent("the runner VM, booted under QEMU", () => {
  it("a job succeeds: the VM gets its JIT config from the controller, the runner, confined, exits 0, one power-off", async () => {
    const run = await boot({ name: "job", mode: "job" });
    expectOnePowerOff(run, /runner exited with status 0/);
    // The real route verified the identity the guest read from IMDS, and answered once.
    expect(run.assignment).toEqual([200]);
    expect(run.bootLog).toContain("mayfly-boot: assignment received");
    expect(run.imds).toEqual(IDENTITY_READ);
    expectConfinedRunner(run);
    expect(fields(run.evidence.runner).get("serial_getty")).not.toBe("active");
  });

  it("the controller has no assignment for this VM (410): one power-off, and the runner never starts", async () => {
    const run = await boot({
      name: "gone",
      mode: "job",
      answer: { kind: "gone", reason: "runner-started" },
    });
    expectOnePowerOff(run, /the controller has no assignment for this VM \(HTTP 410\)/);
    expect(run.assignment).toEqual([410]);
    expect(run.bootLog).not.toContain("mayfly-boot: starting the runner");
    expect(run.evidence.runner).toBeUndefined();
  });

  it("the runner crashes: one power-off; operatorAccess keeps the serial console", async () => {
    const run = await boot({ name: "crash", mode: "crash", operatorAccess: true });
    expectOnePowerOff(run, /runner exited with status 3/);
    expectConfinedRunner(run);
    expect(fields(run.evidence.runner).get("serial_getty")).toBe("active");
  });

  it("no job within the idle timeout: the watchdog powers off once", async () => {
    const run = await boot({ name: "idle", mode: "idle", idle: 60 });
    expectOnePowerOff(run, /no job started within 60s/);
    expectConfinedRunner(run);
  });

  it("a hung job at max lifetime: the watchdog powers off once", async () => {
    const run = await boot({ name: "hung", mode: "hung", max: 90 });
    expectOnePowerOff(run, /max lifetime of 90s reached/);
    expectConfinedRunner(run);
  });

  it("a boot hook that succeeds runs as root, then the downloaded runner with the job hooks", async () => {
    const note = (what: string) =>
      `#!/bin/bash\necho "${what} uid=$(id -u)" >> ${EVIDENCE_DIR}/job-hooks\n`;
    const run = await boot({
      name: "boot-hook",
      mode: "job",
      download: { mode: "serve" },
      hooks: {
        boot: [
          "#!/bin/sh",
          "set -eu",
          "t=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)",
          'id=$(curl -sf -H "X-aws-ec2-metadata-token: $t" http://169.254.169.254/latest/meta-data/instance-id)',
          `echo "uid=$(id -u) path=$0 imds=$id" > ${EVIDENCE_DIR}/boot-hook`,
          "",
        ].join("\n"),
        jobStarted: note("started"),
        jobCompleted: note("completed"),
      },
    });
    expectOnePowerOff(run, /runner exited with status 0/);
    expect(run.bootLog).toContain("mayfly-boot: the boot hook succeeded");
    // Root reaches the metadata service (so the runner's refusal above is the block).
    expect(run.evidence["boot-hook"]).toBe(
      `uid=0 path=/usr/local/lib/mayfly/boot-hook imds=${run.instanceId}\n`,
    );
    expect(run.imds.map((r) => `${r.method} ${r.url}`)).toEqual([
      ...IDENTITY_READ.map((r) => `${r.method} ${r.url}`),
      "PUT /latest/api/token",
      "GET /latest/meta-data/instance-id",
    ]);
    expect(run.tarball.map((r) => r.method)).toEqual(["GET"]);
    expectConfinedRunner(run);
    const seen = fields(run.evidence.runner);
    expect(seen.get("hook_started")).toBe("/usr/local/lib/mayfly/job-started.sh");
    expect(seen.get("hook_completed")).toBe("/usr/local/lib/mayfly/job-completed.sh");
    const uid = seen.get("uid");
    expect(run.evidence["job-hooks"]).toBe(`started uid=${uid}\ncompleted uid=${uid}\n`);
  });

  it("a boot hook that fails: one power-off, and the runner never starts", async () => {
    const run = await boot({
      name: "boot-hook-fails",
      mode: "job",
      hooks: { boot: "#!/bin/sh\nexit 7\n" },
    });
    expectOnePowerOff(run, /the boot hook failed with status 7: not starting the runner/);
    expect(run.evidence.runner).toBeUndefined();
  });

  it("a runner tarball with the wrong checksum is never run", async () => {
    const run = await boot({
      name: "bad-checksum",
      mode: "job",
      download: { mode: "serve", sha256: "0".repeat(64) },
    });
    expectOnePowerOff(run, /SHA-256 mismatch/);
    expect(run.tarball.map((r) => r.method)).toEqual(["GET"]);
    expect(run.evidence.runner).toBeUndefined();
  });

  it("a tarball download that stalls is given up, and the VM powers off once", async () => {
    const run = await boot({ name: "stall", mode: "job", download: { mode: "stall" } });
    expectOnePowerOff(run, /runner download failed/);
    expect(run.tarball.map((r) => r.method)).toEqual(["GET"]);
    expect(run.evidence.runner).toBeUndefined();
  });

  it("an image whose runner user has admin rights is refused", async () => {
    const run = await boot({
      name: "sudo-user",
      mode: "job",
      imageCommands: ["id runner >/dev/null 2>&1 || useradd --create-home --groups sudo runner"],
    });
    expectOnePowerOff(run, /the image's runner user is in the sudo group: refusing to run the job/);
    expect(run.evidence.runner).toBeUndefined();
  });
});
