import { inspect } from "node:util";

const REDACTED = "[redacted]";

/**
 * A value that must never be printed: logging, JSON-encoding or inspecting it shows
 * "[redacted]". Only `reveal()` gives the value, at the one place that needs it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
