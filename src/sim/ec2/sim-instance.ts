/** What the simulated EC2 keeps about one instance, as tests inspect it. */
export interface SimInstance {
  readonly instanceId: string;
  readonly clientToken: string | null;
  readonly imageId: string;
  readonly instanceType: string;
  readonly subnetId: string;
  readonly availabilityZone: string;
  readonly market: "spot" | "on-demand";
  /** `InstanceMarketOptions.SpotOptions.*` as received. */
  readonly spotOptions: Readonly<Record<string, string>>;
  readonly shutdownBehavior: string | null;
  /** `MetadataOptions.*` as received. */
  readonly metadataOptions: Readonly<Record<string, string>>;
  /** `BlockDeviceMapping.N.*` as received, one record per mapping. */
  readonly blockDevices: readonly Readonly<Record<string, string>>[];
  readonly tags: Readonly<Record<string, string>>;
  readonly volumeTags: Readonly<Record<string, string>>;
  /** Size of the decoded user data; the data itself is not kept. */
  readonly userDataBytes: number;
  readonly launchedAtMs: number;
  /** When termination began (by us or by a spot interruption). */
  terminatedAtMs: number | null;
  stateReason: { code: string; message: string } | null;
  stateTransitionReason: string | null;
}
