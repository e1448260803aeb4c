import { EC2Client, type EC2ClientConfig } from "@aws-sdk/client-ec2";
import { ec2RetryStrategy } from "./ec2-retry-strategy.js";

/** Where and as whom to reach EC2; absent fields come from the standard AWS configuration. */
export type Ec2ClientOptions = Pick<EC2ClientConfig, "endpoint" | "region" | "credentials"> & {
  readonly maxAttempts?: number;
};

/** Told of every request sent (retries included) and of every throttling answer. */
export interface Ec2CallObserver {
  readonly call: () => void;
  readonly throttled: () => void;
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/throttling.html
const THROTTLING = new Set(["RequestLimitExceeded", "Throttling", "ThrottlingException"]);

/**
 * The EC2 client every part of mayfly uses: the SDK's adaptive retry, which paces the
 * client when EC2 throttles, minus retries of capacity answers (see ec2-retry-strategy.ts).
 * Region, credentials and `AWS_ENDPOINT_URL_EC2` come from the standard chain unless given.
 */
export function createEc2Client(options: Ec2ClientOptions = {}): EC2Client {
  const { maxAttempts = 5, ...rest } = options;
  return new EC2Client({ ...rest, retryStrategy: ec2RetryStrategy(maxAttempts) });
}

/** Tells `observer` of each attempt the client makes and each throttling answer it gets. */
export function observeEc2Calls(client: EC2Client, observer: Ec2CallObserver): void {
  // In the deserialize step, inside the retry middleware: each attempt is seen.
  client.middlewareStack.add(
    (next) => async (args) => {
      observer.call();
      try {
        return await next(args);
      } catch (error) {
        if (error instanceof Error && THROTTLING.has(error.name)) observer.throttled();
        throw error;
      }
    },
    { step: "deserialize", priority: "high", name: "mayflyCallObserver" },
  );
}
