import type { IdentityError } from "../errors.js";

/** What a verified EC2 instance identity document proves: which VM is asking. */
export interface InstanceIdentity {
  readonly accountId: string;
  readonly region: string;
  readonly instanceId: string;
  /** When EC2 started the instance (the document's `pendingTime`). */
  readonly pendingTime: Date;
  readonly availabilityZone?: string;
  readonly instanceType?: string;
  readonly imageId?: string;
  readonly architecture?: string;
}

/** The verdict on one document: the identity it proves, or why it proves nothing. */
export type IdentityCheck =
  | { readonly ok: true; readonly identity: InstanceIdentity }
  | { readonly ok: false; readonly error: IdentityError };

/** Proves who a VM is from what its IMDS served; AWS's certificates in production, a test one in simulators. */
export interface IdentityVerifier {
  /** Checks `document` and its `/instance-identity/rsa2048` signature, both exactly as IMDS served them. */
  verifyIdentity(document: string, signature: string): IdentityCheck;
}
