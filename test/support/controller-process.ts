export { freePort } from "../../src/bench/free-port.js";

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** One structured log line of the controller (pino JSON). */
export type LogLine = Record<string, unknown> & { readonly msg?: string };

/**
 * The built CLI's `serve` as its own OS process (and process group), so a test can SIGKILL
 * it and start it again on the same data dir. Log lines of every run are kept in order.
 */
export class ControllerProcess {
  readonly lines: LogLine[] = [];
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stderr = "";
  starts = 0;

  constructor(
    private readonly env: Readonly<Record<string, string>>,
    private readonly args: readonly string[],
    /** The built CLI to run (test/support/build-controller.ts). */
    private readonly cli: string,
  ) {}

  /** Starts the controller; resolves once it logs "mayfly serving". */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.#child !== undefined) throw new Error("the controller is already running");
    this.starts += 1;
    const from = this.lines.length;
    const child = spawn(process.execPath, [this.cli, ...this.args], {
      env: { PATH: process.env.PATH ?? "", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: stop() ends whatever it may have started too.
      detached: true,
    });
    this.#child = child;
    this.#exited = new Promise((done) => child.once("exit", () => done()));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      try {
        this.lines.push({ ...(JSON.parse(line) as LogLine), run: this.starts });
      } catch {
        this.lines.push({ msg: line, run: this.starts });
      }
    });
    child.stderr?.on("data", (chunk) => {
      this.#stderr += String(chunk);
    });
    await this.waitFor(
      (l) => l.msg === "mayfly serving",
      timeoutMs,
      from,
      `controller start ${this.starts}`,
    );
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Sends `signal` to the controller's process group and waits for it to exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    }
    await this.#exited;
    this.#child = undefined;
  }

  /** Ends it gracefully (SIGTERM), and for good (SIGKILL) if it takes longer than `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    const timer = setTimeout(() => void this.kill("SIGKILL"), graceMs);
    await this.kill("SIGTERM");
    clearTimeout(timer);
  }

  /** Resolves with the first line from index `from` on that `match` accepts. */
  async waitFor(
    match: (line: LogLine) => boolean,
    timeoutMs: number,
    from = 0,
    what = "log line",
  ): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (let i = from; ; ) {
      for (; i < this.lines.length; i++)
        if (match(this.lines[i] as LogLine)) return this.lines[i] as LogLine;
      const child = this.#child;
      if (child !== undefined && (child.exitCode !== null || child.signalCode !== null))
        throw new Error(
          `${what}: the controller exited (${child.exitCode ?? child.signalCode}): ${this.#stderr.slice(-2000)}`,
        );
      if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
