import cron from "node-cron";
import type { Logger } from "../log/logger.js";

export interface ScheduledTask {
  /** Stops the schedule; a run in progress finishes. */
  stop(): Promise<void>;
}

/**
 * Runs `task` on a cron schedule, named in every log line, never two runs at once, and
 * never letting a failure escape: it is logged and the next run tries again.
 */
export function scheduleTask(
  name: string,
  expression: string,
  task: () => Promise<Record<string, unknown>>,
  logger: Logger,
): ScheduledTask {
  const log = logger.child({ loop: name });
  const job = cron.schedule(
    expression,
    async () => {
      try {
        log.info(await task(), "task done");
      } catch (error) {
        log.error({ err: error }, "task failed");
      }
    },
    { name, noOverlap: true },
  );
  return {
    async stop() {
      await job.stop();
    },
  };
}
