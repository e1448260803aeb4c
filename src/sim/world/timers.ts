/** Timeouts that are all cleared at once, and never fire after that. */
export class Timers {
  readonly #pending = new Set<NodeJS.Timeout>();
  #stopped = false;

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Runs `fn` after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void {
    if (this.#stopped) return () => {};
    const t = setTimeout(() => {
      this.#pending.delete(t);
      if (!this.#stopped) fn();
    }, ms);
    this.#pending.add(t);
    return () => {
      clearTimeout(t);
      this.#pending.delete(t);
    };
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#pending) clearTimeout(t);
    this.#pending.clear();
  }
}
