import type { Logger } from "../log/logger.js";

export interface Loop {
  /** Runs the next round now instead of after the interval. */
  kick(): void;
  /** Stops after the round in progress; resolves when it has finished. */
  stop(): Promise<void>;
}

export interface LoopOptions {
  readonly intervalMs: number;
  /** Longest wait after repeated failures. */
  readonly maxBackoffMs?: number;
  readonly logger: Logger;
  /** In [0, 1), for the jitter of the backoff. */
  readonly random: () => number;
}

/**
 * Runs `round` again and again, one at a time: after `intervalMs`, or at once when kicked.
 * A failing round is logged with the loop's name and retried after a jittered backoff that
 * doubles up to `maxBackoffMs`; the loop itself never dies of it.
 */
export function startLoop(
  name: string,
  round: () => Promise<Record<string, unknown>>,
  options: LoopOptions,
): Loop {
  const log = options.logger.child({ loop: name });
  let running = true;
  let wake: (() => void) | undefined;
  let kicked = false;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (kicked || !running) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const finished = (async () => {
    let failures = 0;
    while (running) {
      kicked = false;
      try {
        const facts = await round();
        failures = 0;
        if (Object.values(facts).some((v) => typeof v === "number" && v > 0))
          log.info(facts, "round done");
      } catch (error) {
        failures++;
        log.error({ err: error, failures }, "round failed");
      }
      const backoff = Math.min(options.maxBackoffMs ?? 30_000, options.intervalMs * 2 ** failures);
      await sleep(failures === 0 ? options.intervalMs : backoff * (0.5 + options.random() / 2));
    }
  })();

  return {
    kick() {
      kicked = true;
      wake?.();
    },
    async stop() {
      running = false;
      wake?.();
      await finished;
    },
  };
}

/**
 * Kicks `loop` once `delayMs` after the first of a run of calls: many events close together
 * wake it once, so its round handles them together (one TerminateInstances for a burst).
 */
export function kickSoon(loop: Pick<Loop, "kick">, delayMs: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  return () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      loop.kick();
    }, delayMs);
    timer.unref();
  };
}
