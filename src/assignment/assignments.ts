import type { Secret } from "../config/secret.js";
import type { RefusalReason } from "../core/assignment-verdict.js";
import type { InstanceIdentity } from "./identity-verifier.js";

/** What the controller answers a VM whose identity document was verified. */
export type AssignmentAnswer =
  /** 200: its runner's JIT config. */
  | { readonly kind: "assigned"; readonly jitConfig: Secret }
  /** 204 with Retry-After: nothing for it yet. */
  | { readonly kind: "wait"; readonly retryAfterSeconds: number }
  /** 403: not a VM of this fleet. 410: its assignment is spent or it is retired. */
  | { readonly kind: "refuse" | "gone"; readonly reason: RefusalReason };

/** The assignment service behind `POST /runner/v1/assignment` (DESIGN.md, "Assignment"). */
export interface Assignments {
  answer(identity: InstanceIdentity): Promise<AssignmentAnswer>;
}
