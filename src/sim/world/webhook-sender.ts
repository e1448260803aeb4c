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
  /**
   * Hold the next N deliveries and send them in a random order (the sender's `random`), once
   * all N are held or SHUFFLE_HOLD_MS after the first of them, whichever comes first.
   */
  readonly shuffle?: number;
}

/** The queue faulty sends share. */
const FAULTY = "faulty";

/** The job a workflow_job payload is about (other events share one queue). */
function jobIdOf(payload: unknown): string {
  const id = (payload as { workflow_job?: { id?: unknown } } | null)?.workflow_job?.id;
  return typeof id === "number" ? String(id) : "other";
}

/** Longest a shuffled delivery is held back waiting for the rest of its batch. */
export const SHUFFLE_HOLD_MS = 300;

interface Outgoing {
  /** The delivery's entry in the App's log. */
  readonly logId: number;
  readonly guid: string;
  readonly event: string;
  readonly body: string;
}

/**
 * GitHub's side of webhook delivery: every event goes to the App's delivery log, then is
 * POSTed once, signed, with no retry (GitHub does not redeliver by itself:
 * https://docs.github.com/en/webhooks/using-webhooks/handling-failed-webhook-deliveries).
 * A job's POSTs go out one after another so that, without faults, the receiver sees its
 * events in the order they happened; different jobs' POSTs go out side by side, as GitHub
 * sends them (one queue for all would hold every job's event behind every other's).
 * Faulty sends (duplicated, reordered, shuffled) share one queue of their own.
 */
export class WebhookSender {
  #target: { url: string; secret: string } | undefined;
  #duplicate = 0;
  #reorder = 0;
  #drop = 0;
  #shuffle = 0;
  #batch: Outgoing[] = [];
  #batchTimer: NodeJS.Timeout | undefined;
  #held: Outgoing | undefined;
  readonly #queues = new Map<string, Promise<void>>();
  readonly #aborts = new AbortController();
  sent = 0;
  failed = 0;

  constructor(
    private readonly github: SimGitHub,
    private readonly installationId: number,
    /** Orders shuffled deliveries; default Math.random. */
    private readonly random: () => number = Math.random,
  ) {}

  connect(target: { url: string; secret: string }): void {
    this.#target = target;
  }

  faults(f: WebhookFaults): void {
    this.#duplicate += f.duplicate ?? 0;
    this.#reorder += f.reorder ?? 0;
    this.#drop += f.drop ?? 0;
    this.#shuffle += f.shuffle ?? 0;
  }

  /** Logs and sends one delivery; resolves once it is sent, dropped or held back. */
  deliver(event: string, payload: unknown): Promise<void> {
    const logged = this.github.recordDelivery(event, payload, {
      installationId: this.installationId,
    });
    const out: Outgoing = {
      logId: logged.id,
      guid: logged.guid,
      event,
      body: JSON.stringify(payload),
    };
    if (this.#drop > 0) {
      this.#drop -= 1;
      return Promise.resolve();
    }
    const times = this.#duplicate > 0 ? 2 : 1;
    if (times === 2) this.#duplicate -= 1;
    if (this.#shuffle > 0) {
      this.#shuffle -= 1;
      for (let i = 0; i < times; i++) this.#batch.push(out);
      if (this.#shuffle === 0) return this.#releaseBatch();
      this.#batchTimer ??= setTimeout(() => void this.#releaseBatch(), SHUFFLE_HOLD_MS);
      return Promise.resolve();
    }
    if (this.#reorder > 0 && this.#held === undefined) {
      this.#reorder -= 1;
      this.#held = out;
      return Promise.resolve();
    }
    const overtaken = this.#held;
    this.#held = undefined;
    const sends = [...Array<Outgoing>(times).fill(out), ...(overtaken ? [overtaken] : [])];
    const plain = sends.length === 1;
    return this.#enqueue(plain ? `job ${jobIdOf(payload)}` : FAULTY, sends);
  }

  /** Sends the held shuffled deliveries in a random order (Fisher–Yates). */
  #releaseBatch(): Promise<void> {
    clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    const sends = this.#batch;
    this.#batch = [];
    for (let i = sends.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [sends[i], sends[j]] = [sends[j] as Outgoing, sends[i] as Outgoing];
    }
    return this.#enqueue(FAULTY, sends);
  }

  /** Sends after whatever the queue holds; a queue that has drained is forgotten. */
  #enqueue(queue: string, sends: readonly Outgoing[]): Promise<void> {
    const next = (this.#queues.get(queue) ?? Promise.resolve()).then(async () => {
      for (const s of sends) await this.#post(s);
    });
    this.#queues.set(queue, next);
    void next.then(() => {
      if (this.#queues.get(queue) === next) this.#queues.delete(queue);
    });
    return next;
  }

  /** Aborts POSTs in flight and waits for the queue to drain. */
  async stop(): Promise<void> {
    clearTimeout(this.#batchTimer);
    this.#aborts.abort();
    await Promise.all(this.#queues.values());
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
      this.github.deliveryAnswered(out.logId, res.status);
      if (!res.ok) this.failed += 1;
    } catch {
      this.failed += 1;
    }
  }
}
