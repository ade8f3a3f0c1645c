/**
 * The app's CloudWatch metrics: one namespace, one name per thing a team operating the phone watches, and at
 * most one dimension of our own besides `service` (Powertools' default dimension, POWERTOOLS_SERVICE_NAME). The
 * handlers count through the `Metrics` port (lambda/ports.ts); Powertools Metrics writes them as EMF log lines
 * in Lambda; the operations construct (lib/constructs/operations.ts) alarms and draws its dashboard on exactly
 * these names and dimensions. Pure constants: no SDK.
 */

import { CredentialsError, type MetricKey, RegistryError, TwilioApiError } from '../ports';

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

/** Every reason a call is refused (CallsRefused's Reason): the destination policy's (core/destination-policy.ts), and the outgoing handler's own. */
export const CALL_REFUSAL_REASONS = [
  'emergency',
  'unparsable',
  'invalid',
  'premium-rate',
  'shared-cost',
  'special-rate',
  'number-type',
  'country-not-allowed',
  'limit',
  'not-a-teammate',
  'caller-id',
  'no-destination',
] as const;

/** A dependency whose failure is counted (DependencyFailures' Dependency). */
export type Dependency = 'DynamoDB' | 'SecretsManager' | 'Twilio' | 'S3' | 'SNS';

/**
 * The dependency behind a known fault: a RegistryError's store (DynamoDB, or S3 for the recordings), Secrets
 * Manager for a CredentialsError, Twilio for a TwilioApiError; undefined for anything else (a bug is not a
 * dependency failure).
 */
export function dependencyOf(err: unknown): Dependency | undefined {
  if (err instanceof RegistryError) return err.dependency;
  if (err instanceof CredentialsError) return 'SecretsManager';
  if (err instanceof TwilioApiError) return 'Twilio';
  return undefined;
}

/** One value of one metric, ready to be written: its CloudWatch name and unit, and its own dimension if it has one. */
export interface MetricDatum {
  name: string;
  unit: MetricSpec['unit'];
  /** the metric's own dimension (besides `service`) and its value */
  dimension?: { name: string; value: string };
}

/** A dimension value we write: short, plain (CloudWatch allows more; a value outside this is a bug). */
const DIMENSION_VALUE = /^[A-Za-z0-9][\w.:-]{0,63}$/;

/**
 * The datum of a metric recorded with `unit` and an optional dimension value, or undefined when it does not fit
 * the metric (wrong unit, a dimension value missing, unknown, or given to a metric without a dimension): the
 * adapters never write such a datum, so no stray dimension set reaches CloudWatch.
 */
export function metricDatum(metric: MetricKey, unit: MetricSpec['unit'], dimensionValue?: string): MetricDatum | undefined {
  const spec: MetricSpec | undefined = Object.hasOwn(METRIC, metric) ? METRIC[metric] : undefined;
  if (!spec || spec.unit !== unit) return undefined;
  if (spec.dimension === undefined) return dimensionValue === undefined ? { name: spec.name, unit } : undefined;
  if (dimensionValue === undefined || !DIMENSION_VALUE.test(dimensionValue)) return undefined;
  if (spec.values && !spec.values.includes(dimensionValue)) return undefined;
  return { name: spec.name, unit, dimension: { name: spec.dimension, value: dimensionValue } };
}
