/** The fields of an EC2 instance identity document; the simulator fills what it knows. */
export interface IdentityDocumentFields {
  readonly accountId: string;
  readonly region: string;
  readonly instanceId: string;
  /** ISO 8601 in UTC, seconds precision, as EC2 writes it: "2021-09-03T21:25:44Z". */
  readonly pendingTime: string;
  readonly availabilityZone?: string;
  readonly instanceType?: string;
  readonly imageId?: string;
  readonly architecture?: string;
  readonly privateIp?: string;
  readonly [field: string]: unknown;
}

/**
 * The document as IMDS serves `/latest/dynamic/instance-identity/document`: pretty-printed
 * with `" : "` between name and value, two-space indent, no final newline (the shape of a
 * real one; see test/assignment/fixtures).
 */
export function renderIdentityDocument(fields: IdentityDocumentFields): string {
  const { version = "2017-09-30", ...rest } = fields;
  const document = { ...rest, version };
  return JSON.stringify(document, null, 2).replace(/^( *"[^"]*"): /gm, "$1 : ");
}
