import type { Job, JobEvent } from "../core/job.js";

/** One webhook delivery as the ledger keeps it: its ID and event name, never its body. */
export interface Delivery {
  readonly id: string;
  readonly event: string;
  readonly receivedAt: Date;
}

/**
 * `recorded`: the delivery was new and its event applied (the job may be unchanged if the
 * event was late). `duplicate`: this delivery ID was seen before; nothing changed.
 * `ignored`: the job matches no pool and is unknown to the ledger; nothing stored.
 */
export type IngestOutcome = "recorded" | "duplicate" | "ignored";

/** The ledger port: job metadata, deliveries, runners, subnets and usage in PostgreSQL. */
export interface Ledger {
  /** Applies schema migrations not yet applied; safe to run from several replicas. */
  migrate(): Promise<void>;
  /** Records a delivery and applies its job event in one transaction; a known delivery ID is a no-op. */
  ingest(delivery: Delivery, event: JobEvent, pool: string | null): Promise<IngestOutcome>;
  /** One job by its GitHub job ID. */
  getJob(id: number): Promise<Job | undefined>;
  /** Forgets delivery IDs received before `before`; answers how many. */
  pruneDeliveries(before: Date): Promise<number>;
  /** Resolves when the database answers a query; rejects with LedgerError otherwise. */
  ping(): Promise<void>;
  /** Closes the connections (or the embedded database). */
  close(): Promise<void>;
}
