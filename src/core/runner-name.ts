// GitHub accepts runner names up to 64 characters.
const MAX_LENGTH = 64;

/**
 * The name of the runner launched for a job: fleet, job ID and launch number, so a name says
 * which job it was started for and a relaunch never collides with an earlier registration
 * (GitHub answers 409 to a name already in use).
 */
export function runnerName(fleet: string, jobId: number, launch: number): string {
  const name = `${fleet}-${jobId}-${launch}`;
  if (name.length > MAX_LENGTH)
    throw new RangeError(`runner name longer than ${MAX_LENGTH} characters`);
  return name;
}

/** The job ID and launch number a runner name of this fleet carries, or undefined if not ours. */
export function parseRunnerName(
  fleet: string,
  name: string,
): { jobId: number; launch: number } | undefined {
  const prefix = `${fleet}-`;
  if (!name.startsWith(prefix)) return undefined;
  const match = /^(\d+)-(\d+)$/.exec(name.slice(prefix.length));
  if (!match) return undefined;
  return { jobId: Number(match[1]), launch: Number(match[2]) };
}
