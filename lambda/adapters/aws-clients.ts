/**
 * Client configuration for every outbound AWS call: explicit connection and request timeouts and a bounded
 * number of attempts, so a slow or failing dependency is answered well inside the function's timeout.
 * Worst case per call ≈ maxAttempts × requestTimeout + back-off ≈ 3 × 1 s + ~0.3 s; a handler makes at most a few
 * sequential calls, and the first failing one ends the request, so answers come well within a 10 s Lambda timeout.
 */
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';

export const AWS_MAX_ATTEMPTS = 3;
export const AWS_CONNECTION_TIMEOUT_MS = 1000;
export const AWS_REQUEST_TIMEOUT_MS = 1000;

export function awsClientConfig(): DynamoDBClientConfig & SecretsManagerClientConfig {
  return {
    maxAttempts: AWS_MAX_ATTEMPTS,
    retryMode: 'standard',
    // throwOnRequestTimeout: without it the SDK only logs a warning when requestTimeout passes and keeps waiting.
    requestHandler: { connectionTimeout: AWS_CONNECTION_TIMEOUT_MS, requestTimeout: AWS_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
  };
}

/**
 * What a function does with each AWS SDK v3 client it creates: in Lambda, Powertools Tracer's
 * `captureAWSv3Client` (each call a subsegment of the invocation's trace; tracing.ts); elsewhere nothing.
 */
export type CaptureClient = <T>(client: T) => T;

export const uncaptured: CaptureClient = (client) => client;
