/**
 * Brute-force policy for the token API, per device and per line (numbers known or not): the first few failures are free,
 * then each failure opens a growing back-off window, and from `lockoutFailures` on, each failure locks the
 * number for `lockoutSeconds`. During a window attempts are answered 429 without checking the secret.
 * Failures are remembered for `rememberSeconds` after the last one (DynamoDB TTL); a success clears them.
 */
import type { AttemptRecord } from '../ports';
import { MAX_LINE_MEMBERS } from './line';

export interface LockoutPolicy {
  freeFailures: number;
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  lockoutFailures: number;
  lockoutSeconds: number;
  rememberSeconds: number;
}

export const DEFAULT_LOCKOUT_POLICY: Readonly<LockoutPolicy> = {
  freeFailures: 3, // failures 1-2: no delay; failure 3 opens a 1 s window, then 2, 4, 8, 16, 32, 60 s
  baseDelaySeconds: 1,
  maxDelaySeconds: 60,
  lockoutFailures: 10, // failure 10 and every later one: locked 15 minutes
  lockoutSeconds: 15 * 60,
  rememberSeconds: 24 * 60 * 60,
};

/**
 * The policy of a line's shared count (every failure on the number, whatever device it named): as many free
 * failures and failures before lockout as (MAX_LINE_MEMBERS + 1) devices' own counts together, so it never
 * binds before a device's own count does, and bounds what an attacker gains by naming made-up devices.
 */
export function lineWidePolicy(policy: LockoutPolicy): LockoutPolicy {
  const buckets = MAX_LINE_MEMBERS + 1;
  return { ...policy, freeFailures: policy.freeFailures * buckets, lockoutFailures: policy.lockoutFailures * buckets };
}

/** Epoch seconds until which the number is blocked, or undefined when attempts are allowed now. */
export function blockedUntil(
  record: AttemptRecord | undefined,
  nowSeconds: number,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): number | undefined {
  if (!record) return undefined;
  const until = record.lastFailureAt + delayAfter(record.failures, policy);
  return until > nowSeconds ? until : undefined;
}

/** The window (seconds) opened by the n-th consecutive failure. */
export function delayAfter(failures: number, policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY): number {
  if (failures >= policy.lockoutFailures) return policy.lockoutSeconds;
  if (failures < policy.freeFailures) return 0;
  return Math.min(policy.baseDelaySeconds * 2 ** (failures - policy.freeFailures), policy.maxDelaySeconds);
}
