import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Memory and CPU of one process, from /proc (Linux). */
export interface ProcessUsage {
  /** Peak resident set (VmHWM), in MB. */
  readonly peakRssMb: number;
  /** Resident set now (VmRSS), in MB. */
  readonly rssMb: number;
  /** User plus system CPU time so far, in seconds. */
  readonly cpuSeconds: number;
}

let clockTicks: number | undefined;

/** Reads /proc/<pid>/status and /proc/<pid>/stat. */
export function processUsage(pid: number): ProcessUsage {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  // Fields after the command name (which may hold spaces) start at field 3: utime is 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  const ticks = Number(fields[11]) + Number(fields[12]);
  return {
    peakRssMb: kb("VmHWM") / 1024,
    rssMb: kb("VmRSS") / 1024,
    cpuSeconds: ticks / clockTicks,
  };
}

/** `node dist/cli.js serve`, the production entry point, as its own process. */
export interface ControllerProcess {
  readonly pid: number;
  readonly url: string;
  usage(): ProcessUsage;
  stop(): Promise<void>;
}

/**
 * Starts the controller with `env` (its whole environment besides PATH), logging to `logPath`,
 * and resolves once `/healthz` answers on `port`.
 */
export async function startController(
  env: Readonly<Record<string, string>>,
  port: number,
  logPath: string,
): Promise<ControllerProcess> {
  const cli = fileURLToPath(new URL("../cli.js", import.meta.url));
  const log = openSync(logPath, "a");
  const child: ChildProcess = spawn(process.execPath, [cli, "serve"], {
    env: { PATH: process.env.PATH ?? "", ...env, MAYFLY_PORT: String(port) },
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the controller exited; see ${logPath}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the controller did not answer; see ${logPath}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid as number;
  return {
    pid,
    url,
    usage: () => processUsage(pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
      child.kill("SIGTERM");
      await exited;
      clearTimeout(kill);
    },
  };
}
