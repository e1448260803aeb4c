import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AssignmentEndpointOptions,
  assignmentEndpoint,
} from "../support/assignment-endpoint.js";
import { fakeImds, type ServedIdentity } from "../support/fake-imds.js";
import type { VmImage } from "./image.js";
import { type Request, type Tls, tarballServer } from "./servers.js";
import { EVIDENCE_DIR } from "./stand-in.js";

const BRIDGE = fileURLToPath(new URL("./bridge.mjs", import.meta.url));
/** QEMU's user network for the guest: it only forwards addresses inside its own network. */
export const IMDS_IP = "169.254.169.254";
export const TARBALL_IP = "169.254.169.253";
/** The controller's assignment endpoint, as the guest reaches it (https on 443). */
export const ASSIGNMENT_IP = "169.254.169.252";

export type VmOptions = {
  name: string;
  userData: string;
  vendorData: string;
  /** The JIT config: looked for in every file and journal entry after power-off. */
  needle: string;
  /** The instance ID the fake IMDS answers, and its identity document and signature. */
  instanceId: string;
  identity: ServedIdentity;
  /** The real assignment route, served over https at ASSIGNMENT_IP. */
  assignment: Omit<AssignmentEndpointOptions, "tls"> & { tls: Tls };
  tarball?: { tls: Tls; body: Buffer; mode: "serve" | "stall" };
  hardTimeoutSeconds: number;
};

export type VmRun = {
  exitCode: number | null;
  timedOut: boolean;
  seconds: number;
  console: string;
  /** Every journal entry (system and user journals) as journalctl's JSON lines. */
  journal: Record<string, unknown>[];
  /** The MESSAGE of each entry of the mayfly-boot unit. */
  bootLog: string[];
  evidence: Record<string, string>;
  /** Files on the powered-off disk that hold the needle. */
  filesWithNeedle: string[];
  journalEntriesWithNeedle: number;
  imds: Request[];
  tarball: Request[];
  /** The status of every answer of the assignment endpoint, in order. */
  assignment: number[];
};

const run = (cmd: string, args: string[]) => {
  const result = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  if (result.status !== 0 && result.status !== 1)
    throw new Error(`${cmd} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  return result;
};

/**
 * Boots the image with a NoCloud seed carrying the user data, behind a restricted user
 * network whose only ways out are the fake IMDS, the assignment endpoint and (optionally)
 * the tarball server,
 * waits for QEMU to exit by itself (the guest powered off), then reads the disk.
 */
export async function bootVm(image: VmImage, o: VmOptions): Promise<VmRun> {
  const dir = mkdtempSync(join(tmpdir(), `mayfly-vm-${o.name}-`));
  const seed = join(dir, "seed");
  mkdirSync(seed);
  writeFileSync(join(seed, "user-data"), o.userData, { mode: 0o600 });
  writeFileSync(join(seed, "vendor-data"), o.vendorData);
  writeFileSync(
    join(seed, "meta-data"),
    `instance-id: ${o.instanceId}\nlocal-hostname: mayfly-vm\n`,
  );
  const iso = join(dir, "seed.iso");
  run("genisoimage", ["-quiet", "-output", iso, "-volid", "cidata", "-joliet", "-rock", seed]);
  rmSync(seed, { recursive: true });
  const disk = join(dir, "disk.raw");
  run("cp", ["--sparse=always", image.disk, disk]);

  const imds = await fakeImds({ instanceId: o.instanceId, identity: o.identity });
  const tarball = o.tarball && (await tarballServer(o.tarball.tls, o.tarball.body, o.tarball.mode));
  const assignment = await assignmentEndpoint(o.assignment);
  const forward = (ip: string, port: number, to: number) =>
    `guestfwd=tcp:${ip}:${port}-cmd:${process.execPath} ${BRIDGE} ${to}`;
  const netdev = [
    "user,id=n0,restrict=on,net=169.254.169.0/24",
    forward(IMDS_IP, 80, imds.port),
    forward(ASSIGNMENT_IP, 443, assignment.port),
    ...(tarball ? [forward(TARBALL_IP, 443, tarball.port)] : []),
  ].join(",");
  const consoleLog = join(dir, "console.log");
  const args = [
    ...["-nodefaults", "-machine", "pc", "-accel", "tcg,thread=multi", "-cpu", "max"],
    ...["-smp", process.env.MAYFLY_VM_CPUS ?? "1", "-m", "1024", "-no-reboot"],
    ...["-display", "none", "-monitor", "none", "-serial", `file:${consoleLog}`],
    ...["-kernel", image.kernel, "-initrd", image.initrd],
    ...["-append", "console=ttyS0 root=/dev/vda rw quiet"],
    ...["-drive", `file=${disk},format=raw,if=virtio`],
    ...["-drive", `file=${iso},format=raw,if=virtio,readonly=on`],
    ...["-netdev", netdev, "-device", "virtio-net-pci,netdev=n0"],
    ...["-device", "virtio-rng-pci"],
  ];
  const started = Date.now();
  const qemu = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  qemu.stderr.on("data", (d) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    qemu.kill("SIGKILL");
  }, o.hardTimeoutSeconds * 1000);
  const exitCode = await new Promise<number | null>((done) =>
    qemu.on("exit", (code) => done(code)),
  );
  clearTimeout(timer);
  const seconds = Math.round((Date.now() - started) / 1000);
  await imds.close();
  await tarball?.close();
  await assignment.close();
  if (exitCode !== 0 && !timedOut) throw new Error(`qemu failed (${exitCode}): ${stderr}`);

  const mnt = join(dir, "mnt");
  mkdirSync(mnt);
  run("mount", ["-o", "ro,loop,noload", disk, mnt]);
  try {
    const evidenceDir = join(mnt, EVIDENCE_DIR);
    const evidence: Record<string, string> = {};
    for (const name of existsSync(evidenceDir) ? readdirSync(evidenceDir) : [])
      evidence[name] = readFileSync(join(evidenceDir, name), "utf8");
    const journalText = run("journalctl", [
      `--directory=${join(mnt, "var/log/journal")}`,
      "--output=json",
      "--all",
      "--no-pager",
    ]).stdout;
    const journal = journalText
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const bootLog = journal
      .filter(
        (e) => e._SYSTEMD_UNIT === "mayfly-boot.service" || e.SYSLOG_IDENTIFIER === "mayfly-boot",
      )
      .map((e) => String(e.MESSAGE));
    const grep = run("grep", ["-rlaF", "--devices=skip", "-e", o.needle, mnt]);
    return {
      exitCode,
      timedOut,
      seconds,
      console: readFileSync(consoleLog, "utf8"),
      journal,
      bootLog,
      evidence,
      filesWithNeedle: grep.stdout
        .split("\n")
        .filter(Boolean)
        .map((f) => f.slice(mnt.length)),
      journalEntriesWithNeedle: journalText.split("\n").filter((l) => l.includes(o.needle)).length,
      imds: imds.requests,
      tarball: tarball?.requests ?? [],
      assignment: assignment.statuses,
    };
  } finally {
    run("umount", [mnt]);
    if (process.env.MAYFLY_VM_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
    else copyFileSync(consoleLog, join(dir, "console.kept.log"));
  }
}
