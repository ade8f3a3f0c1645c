/**
 * The app's CloudWatch metrics: one namespace, one name per thing a team operating the phone watches, and at
 * most one dimension of our own besides `service` (Powertools' default dimension, POWERTOOLS_SERVICE_NAME). The
 * handlers count through the `Metrics` port (lambda/ports.ts); Powertools Metrics writes them as EMF log lines
 * in Lambda; the operations construct (lib/constructs/operations.ts) alarms and draws its dashboard on exactly
 * these names and dimensions. Pure constants: no SDK.
 */

import type { MetricKey } from '../ports';

export type { MetricKey };

/** A metric's CloudWatch name and unit, and the one dimension of its own it may carry (with its known values). */
export interface MetricSpec {
  readonly name: string;
  readonly unit: 'Count' | 'Milliseconds';
  readonly dimension?: string;
  readonly values?: readonly string[];
}

export const METRICS_NAMESPACE = 'TwilioSoftphone';
/** POWERTOOLS_SERVICE_NAME of every function: the `service` dimension every metric carries. */
export const METRICS_SERVICE = 'twilio-softphone';

/** Every metric: its name, unit and the one dimension of its own it may carry (and that dimension's values). */
export const METRIC = {
  /** a sign-in at the token API, by Result */
  signIn: { name: 'SignIn', unit: 'Count', dimension: 'Result', values: ['ok', 'refused', 'locked-out', 'invalid'] },
  /** a webhook refused for a missing or wrong X-Twilio-Signature */
  signatureRejected: { name: 'SignatureRejected', unit: 'Count' },
  /** an incoming call routed by its line's call flow (its first step) */
  incomingCall: { name: 'IncomingCalls', unit: 'Count' },
  /** an incoming call that ended with nobody answering and no message left (the call log's outcome) */
  missedCall: { name: 'MissedCalls', unit: 'Count' },
  /** a voicemail kept */
  voicemail: { name: 'Voicemails', unit: 'Count' },
  /** an outgoing call (or a forward) refused, by Reason: a destination policy reason, `limit`, `not-a-teammate`, `caller-id` */
  callRefused: { name: 'CallsRefused', unit: 'Count', dimension: 'Reason' },
  /** a dependency failed (answered gracefully), by Dependency */
  dependencyFailure: {
    name: 'DependencyFailures',
    unit: 'Count',
    dimension: 'Dependency',
    values: ['DynamoDB', 'SecretsManager', 'Twilio', 'S3', 'SNS'],
  },
  /** how long a handler took, by Function (the FunctionId) */
  handlerLatency: { name: 'HandlerLatency', unit: 'Milliseconds', dimension: 'Function' },
  /** an error or warning Twilio's Debugger reported, by Level */
  twilioAlert: { name: 'TwilioAlerts', unit: 'Count', dimension: 'Level', values: ['error', 'warning'] },
} as const satisfies Record<MetricKey, MetricSpec>;

/** The destination-policy reasons that mean toll fraud was stopped (alarmed on): not a mistyped number. */
export const TOLL_FRAUD_REASONS = ['premium-rate', 'shared-cost', 'special-rate', 'country-not-allowed', 'number-type'] as const;
