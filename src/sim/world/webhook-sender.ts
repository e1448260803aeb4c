import { createHmac } from "node:crypto";
import type { SimGitHub } from "../github/start-sim-github.js";

/** Knobs for the next deliveries: each count is used up one delivery at a time. */
export interface WebhookFaults {
  /** Send each of the next N deliveries twice (same delivery id, same body). */
  readonly duplicate?: number;
  /** Hold each of the next N deliveries back until the one after it has been sent. */
  readonly reorder?: number;
  /** Record the next N deliveries in the delivery log but never send them. */
  readonly drop?: number;
}

interface Outgoing {
  readonly guid: string;
  readonly event: string;
  readonly body: string;
}

/**
 * GitHub's side of webhook delivery: every event goes to the App's delivery log, then is
 * POSTed once, signed, with no retry (GitHub does not redeliver by itself:
 * https://docs.github.com/en/webhooks/using-webhooks/handling-failed-webhook-deliveries).
 * POSTs go out one after another so that, without faults, the receiver sees the order
 * events happened in.
 */
export class WebhookSender {
  #target: { url: string; secret: string } | undefined;
  #duplicate = 0;
  #reorder = 0;
  #drop = 0;
  #held: Outgoing | undefined;
  #chain: Promise<void> = Promise.resolve();
  readonly #aborts = new AbortController();
  sent = 0;
  failed = 0;

  constructor(
    private readonly github: SimGitHub,
    private readonly installationId: number,
  ) {}

  connect(target: { url: string; secret: string }): void {
    this.#target = target;
  }

  faults(f: WebhookFaults): void {
    this.#duplicate += f.duplicate ?? 0;
    this.#reorder += f.reorder ?? 0;
    this.#drop += f.drop ?? 0;
  }

  /** Logs and sends one delivery; resolves once it is sent, dropped or held back. */
  deliver(event: string, payload: unknown): Promise<void> {
    const logged = this.github.recordDelivery(event, payload, {
      installationId: this.installationId,
    });
    const out: Outgoing = { guid: logged.guid, event, body: JSON.stringify(payload) };
    if (this.#drop > 0) {
      this.#drop -= 1;
      return Promise.resolve();
    }
    const times = this.#duplicate > 0 ? 2 : 1;
    if (times === 2) this.#duplicate -= 1;
    if (this.#reorder > 0 && this.#held === undefined) {
      this.#reorder -= 1;
      this.#held = out;
      return Promise.resolve();
    }
    const overtaken = this.#held;
    this.#held = undefined;
    const sends = [...Array<Outgoing>(times).fill(out), ...(overtaken ? [overtaken] : [])];
    this.#chain = this.#chain.then(async () => {
      for (const s of sends) await this.#post(s);
    });
    return this.#chain;
  }

  /** Aborts POSTs in flight and waits for the queue to drain. */
  async stop(): Promise<void> {
    this.#aborts.abort();
    await this.#chain;
  }

  async #post(out: Outgoing): Promise<void> {
    const target = this.#target;
    if (target === undefined || this.#aborts.signal.aborted) return;
    this.sent += 1;
    const signature = createHmac("sha256", target.secret).update(out.body).digest("hex");
    try {
      const res = await fetch(target.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/sim",
          "x-github-event": out.event,
          "x-github-delivery": out.guid,
          "x-hub-signature-256": `sha256=${signature}`,
        },
        body: out.body,
        signal: AbortSignal.any([this.#aborts.signal, AbortSignal.timeout(10_000)]),
      });
      await res.arrayBuffer();
      if (!res.ok) this.failed += 1;
    } catch {
      this.failed += 1;
    }
  }
}
