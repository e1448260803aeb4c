/**
 * Lets the registrations a queued job waits for go ahead of cleanup writes (deleting runner
 * registrations). GitHub asks for one second between writes
 * (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api),
 * so in one first-come queue every deletion delays a job's start by that second, and more so
 * the more runners other jobs take. A cleanup waits while registrations are under way, at most
 * `maxWaitMs`, so that a steady stream of registrations cannot hold it back for ever.
 */
export class RegistrationsFirst {
  #registering = 0;
  #waiters: (() => void)[] = [];

  constructor(private readonly maxWaitMs: number) {}

  /** Runs one registration; cleanups wait until none is under way. */
  async register<T>(work: () => Promise<T>): Promise<T> {
    this.#registering++;
    try {
      return await work();
    } finally {
      this.#registering--;
      if (this.#registering === 0) for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  /** Runs one cleanup once no registration is under way, or after `maxWaitMs`. */
  async cleanup<T>(work: () => Promise<T>): Promise<T> {
    if (this.#registering > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.maxWaitMs);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return work();
  }
}
