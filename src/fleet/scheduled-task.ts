import cron from "node-cron";
import type { Logger } from "../log/logger.js";

export interface ScheduledTask {
  /** Stops the schedule; resolves once a run in progress has finished. */
  stop(): Promise<void>;
}

/**
 * When a scheduled task runs: `start` calls `run` at each of its times until the handle it
 * returns is stopped. `run` resolves when that run has finished.
 */
export type Schedule = (run: () => Promise<void>) => { stop(): void | Promise<void> };

/** A cron expression (node-cron, seconds field allowed) as a schedule. */
export function cronSchedule(expression: string, name: string): Schedule {
  return (run) => cron.schedule(expression, run, { name });
}

/**
 * Runs `task` on a schedule (a cron expression, or a Schedule a test drives), named in every
 * log line, never two runs at once (a tick during a run joins it), and never letting a failure
 * escape: it is logged and the next run tries again. `runAtStart` also runs it once now.
 */
export function scheduleTask(
  name: string,
  when: string | Schedule,
  task: () => Promise<Record<string, unknown>>,
  logger: Logger,
  options: { readonly runAtStart?: boolean } = {},
): ScheduledTask {
  const log = logger.child({ loop: name });
  let inFlight: Promise<void> | undefined;
  const run = (): Promise<void> => {
    inFlight ??= (async () => {
      try {
        log.info(await task(), "task done");
      } catch (error) {
        log.error({ err: error }, "task failed");
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };
  const schedule = typeof when === "string" ? cronSchedule(when, name) : when;
  const handle = schedule(run);
  if (options.runAtStart) void run();
  return {
    async stop() {
      await handle.stop();
      await inFlight;
    },
  };
}
