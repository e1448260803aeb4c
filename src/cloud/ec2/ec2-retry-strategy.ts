import { AdaptiveRetryStrategy } from "@smithy/core/retry";
import { isCapacityCode } from "./ec2-errors.js";

type Refresh = AdaptiveRetryStrategy["refreshRetryTokenForRetry"];

/**
 * The SDK's adaptive retry (it paces the client when EC2 throttles), except that capacity
 * answers are not retried: AWS sends InsufficientInstanceCapacity as HTTP 500, which the
 * SDK would repeat as a server error, while the launcher should move on to the next
 * instance type or zone at once.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
export function ec2RetryStrategy(maxAttempts: number) {
  const adaptive = new AdaptiveRetryStrategy(maxAttempts);
  return {
    mode: adaptive.mode,
    acquireInitialRetryToken: (scope: string) => adaptive.acquireInitialRetryToken(scope),
    refreshRetryTokenForRetry(...[token, info]: Parameters<Refresh>): ReturnType<Refresh> {
      const code = info.error?.name;
      if (code !== undefined && isCapacityCode(code))
        return Promise.reject(new Error(`${code} is not retried`));
      return adaptive.refreshRetryTokenForRetry(token, info);
    },
    recordSuccess: (token: Parameters<AdaptiveRetryStrategy["recordSuccess"]>[0]) =>
      adaptive.recordSuccess(token),
  };
}
