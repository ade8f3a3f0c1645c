/**
 * The CDK app's context keys (`-c key=value` or cdk.json "context"), read into the stack's props with the
 * rules of lambda/core/settings.ts, so `cdk synth` stops on a bad value with a message naming the key.
 * The keys are documented in bin/twilio-softphone.ts and the README.
 */
import {
  CALL_LOG_RETENTION_DAYS,
  CALL_TIME_LIMIT_SECONDS,
  MAX_CALLS_PER_DEVICE,
  MAX_CALLS_PER_LINE,
  parseAllowedOrigin,
  parseBaseUrl,
  parseCountries,
  parseEdges,
  parseFlag,
  parseStackName,
  parseWholeNumber,
  THROTTLE,
  TOKEN_TTL_SECONDS,
  VOICEMAIL_RETENTION_DAYS,
} from '../../lambda/core/settings';
import { TWILIO_EDGES } from '../../client/src/config';
import { parseNotifyEmails } from '../constructs/voicemail-storage';
import type { TwilioSoftphoneStackProps } from '../softphone-stack';

export const CONTEXT_KEYS = [
  'stackName',
  'allowedOrigin',
  'twilioSecretName',
  'tokenTtlSeconds',
  'allowedDestinationCountries',
  'publicBaseUrl',
  'throttleRateLimit',
  'throttleBurstLimit',
  'webhookThrottleRateLimit',
  'webhookThrottleBurstLimit',
  'callTimeLimitSeconds',
  'voicemailRetentionDays',
  'voicemailNotifyEmails',
  'callLogRetentionDays',
  'maxCallsPerDevice',
  'maxCallsPerLine',
  'alarmEmails',
  'twilioEdge',
  'detailedTracing',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

const context = (key: ContextKey) => `Context ${key}`;

/** Reads and checks the context keys; throws a SettingError on a bad value. */
export function stackPropsFromContext(get: (key: ContextKey) => unknown): TwilioSoftphoneStackProps & { stackName: string } {
  const secretName = get('twilioSecretName');
  return {
    stackName: parseStackName(get('stackName'), context('stackName')),
    allowedOrigin: parseAllowedOrigin(get('allowedOrigin'), context('allowedOrigin')),
    twilioSecretName: secretName === undefined || secretName === null ? undefined : String(secretName).trim() || undefined,
    functionSettings: {
      tokenTtlSeconds: parseWholeNumber(get('tokenTtlSeconds'), context('tokenTtlSeconds'), TOKEN_TTL_SECONDS),
      publicBaseUrl: parseBaseUrl(get('publicBaseUrl'), context('publicBaseUrl'), { allowHttp: false }),
      allowedDestinationCountries: parseCountries(get('allowedDestinationCountries'), context('allowedDestinationCountries')),
      callTimeLimitSeconds: parseWholeNumber(get('callTimeLimitSeconds'), context('callTimeLimitSeconds'), CALL_TIME_LIMIT_SECONDS),
      voicemailRetentionDays: parseWholeNumber(get('voicemailRetentionDays'), context('voicemailRetentionDays'), VOICEMAIL_RETENTION_DAYS),
      callLogRetentionDays: parseWholeNumber(get('callLogRetentionDays'), context('callLogRetentionDays'), CALL_LOG_RETENTION_DAYS),
      maxCallsPerDevice: parseWholeNumber(get('maxCallsPerDevice'), context('maxCallsPerDevice'), MAX_CALLS_PER_DEVICE),
      maxCallsPerLine: parseWholeNumber(get('maxCallsPerLine'), context('maxCallsPerLine'), MAX_CALLS_PER_LINE),
      detailedTracing: parseFlag(get('detailedTracing'), context('detailedTracing')),
    },
    voicemailNotifyEmails: parseNotifyEmails(get('voicemailNotifyEmails'), context('voicemailNotifyEmails')),
    alarmEmails: parseNotifyEmails(get('alarmEmails'), context('alarmEmails')),
    twilioEdge: parseEdges(get('twilioEdge'), context('twilioEdge'), TWILIO_EDGES),
    throttle: {
      browser: {
        rateLimit: parseWholeNumber(get('throttleRateLimit'), context('throttleRateLimit'), THROTTLE.rateLimit) ?? THROTTLE.default.rateLimit,
        burstLimit: parseWholeNumber(get('throttleBurstLimit'), context('throttleBurstLimit'), THROTTLE.burstLimit) ?? THROTTLE.default.burstLimit,
      },
      twilio: {
        rateLimit:
          parseWholeNumber(get('webhookThrottleRateLimit'), context('webhookThrottleRateLimit'), THROTTLE.rateLimit) ??
          THROTTLE.webhookDefault.rateLimit,
        burstLimit:
          parseWholeNumber(get('webhookThrottleBurstLimit'), context('webhookThrottleBurstLimit'), THROTTLE.burstLimit) ??
          THROTTLE.webhookDefault.burstLimit,
      },
    },
  };
}
