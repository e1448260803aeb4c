import type { Schedule } from "../../src/fleet/scheduled-task.js";

/** A schedule that runs its task only when the test says: no clock decides for it. */
export interface HandSchedule {
  readonly schedule: Schedule;
  /** Runs the task now; resolves when that run has finished. Before start or after stop, nothing runs. */
  tick(): Promise<void>;
}

export function handSchedule(): HandSchedule {
  let run: (() => Promise<void>) | undefined;
  return {
    schedule: (r) => {
      run = r;
      return {
        stop: () => {
          run = undefined;
        },
      };
    },
    tick: () => run?.() ?? Promise.resolve(),
  };
}
