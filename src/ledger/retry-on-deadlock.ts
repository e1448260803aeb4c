// https://www.postgresql.org/docs/current/errcodes-appendix.html: deadlock_detected.
const DEADLOCK = "40P01";

/**
 * Runs a transaction again when PostgreSQL aborted it to break a deadlock: the other side
 * has committed by then, and the work is whole or not at all, so running it again is safe.
 * Each retry waits a moment, longer each time and at random, so that transactions aborted
 * together do not meet again in the same order.
 */
export async function retryOnDeadlock<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if ((error as { code?: unknown }).code !== DEADLOCK || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * attempt));
    }
  }
}
