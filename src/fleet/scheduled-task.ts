import cron from "node-cron";
import type { Logger } from "../log/logger.js";

export interface ScheduledTask {
  /** Stops the schedule; resolves once a run in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `task` on a cron schedule, named in every log line, never two runs at once (a tick
 * during a run is skipped), and never letting a failure escape: it is logged and the next
 * run tries again. `runAtStart` also runs it once now.
 */
export function scheduleTask(
  name: string,
  expression: string,
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
  const job = cron.schedule(expression, run, { name });
  if (options.runAtStart) void run();
  return {
    async stop() {
      await job.stop();
      await inFlight;
    },
  };
}
