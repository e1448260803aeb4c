import { CapacityError, CloudError } from "../../errors.js";

// Codes that mean "not here, not now": the caller tries another type, zone or market.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
const CAPACITY: Record<string, CapacityError["failure"]> = {
  InsufficientInstanceCapacity: "capacity",
  InsufficientCapacity: "capacity",
  InsufficientHostCapacity: "capacity",
  Unsupported: "zone-unsupported",
  MaxSpotInstanceCountExceeded: "spot-limit",
  SpotMaxPriceTooLow: "spot-limit",
};

/** Whether an EC2 error code says "not here, not now" (another type, zone or market may do). */
export function isCapacityCode(code: string): boolean {
  return Object.hasOwn(CAPACITY, code);
}

/** The EC2 error code of an SDK error (the SDK puts it in `name`), if any. */
export function ec2ErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { Code?: unknown }).Code;
  return typeof code === "string" ? code : error.name;
}

/**
 * An EC2 failure in our catalog: capacity errors the caller can route around, anything
 * else fatal (throttling only gets here once the SDK's retries are spent). Only AWS's code and message are kept; AWS never echoes the user data, and the
 * request (which holds it) is not chained, as the SDK error does not carry it either.
 */
export function cloudErrorOf(error: unknown, what: string): Error {
  const code = ec2ErrorCode(error) ?? "Unknown";
  const message = `${what}: ${code}: ${error instanceof Error ? error.message : String(error)}`;
  const failure = CAPACITY[code];
  return failure === undefined
    ? new CloudError(message, { cause: error })
    : new CapacityError(failure, message, { cause: error });
}
