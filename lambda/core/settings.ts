/**
 * Every setting the app checks, with ONE rule each, for both moments that check them: synth time (CDK context,
 * lib/config/context.ts, and the constructs validating their own props) and run time (the function
 * environment, `loadConfig`; the local app's environment). A bad value fails `cdk synth`, not the first cold
 * start. Pure: no SDK, so the Lambda bundles carry it for a few hundred bytes.
 */

/** Access Token lifetime (seconds): TOKEN_TTL_SECONDS / context tokenTtlSeconds. */
export const TOKEN_TTL_SECONDS = { default: 3600, min: 60, max: 86400 } as const;

/**
 * A device secret chosen by the user; generated ones are 43 characters. Its length is counted ONE way
 * everywhere, by `deviceSecretLength`.
 */
export const DEVICE_SECRET_LENGTH = { min: 8, max: 256 } as const;

/**
 * A device secret's length as every check counts it (the device CLI, the token handler): UTF-16 code units,
 * JavaScript's `length`. The token request model's `maxLength` counts code points, never more, so a secret
 * within this rule always passes the gateway too.
 */
export function deviceSecretLength(secret: string): number {
  return secret.length;
}

/** Whether a chosen device secret's length is within DEVICE_SECRET_LENGTH. */
export function deviceSecretLengthOk(secret: string): boolean {
  const length = deviceSecretLength(secret);
  return length >= DEVICE_SECRET_LENGTH.min && length <= DEVICE_SECRET_LENGTH.max;
}

/**
 * The longest an outgoing call may last (`<Dial timeLimit>`, seconds): CALL_TIME_LIMIT_SECONDS / context
 * callTimeLimitSeconds. A stolen session cannot hold a line open for days; Twilio's own ceiling is 4 hours.
 */
export const CALL_TIME_LIMIT_SECONDS = { default: 4 * 60 * 60, min: 60, max: 4 * 60 * 60 } as const;

/**
 * How long voicemails are kept (days): VOICEMAIL_RETENTION_DAYS / context voicemailRetentionDays. The recording
 * bucket's lifecycle deletes recordings after as many days, and the registry's TTL forgets the voicemail.
 */
export const VOICEMAIL_RETENTION_DAYS = { default: 30, min: 1, max: 3650 } as const;

/**
 * How long the call log keeps a call (days): CALL_LOG_RETENTION_DAYS / context callLogRetentionDays; the calls
 * table's TTL forgets it then.
 */
export const CALL_LOG_RETENTION_DAYS = { default: 90, min: 1, max: 3650 } as const;

/**
 * Simultaneous outgoing calls (internal ones too): MAX_CALLS_PER_DEVICE / context maxCallsPerDevice, and
 * MAX_CALLS_PER_LINE / maxCallsPerLine. A stolen device secret cannot run up a bill with parallel calls.
 */
export const MAX_CALLS_PER_DEVICE = { default: 2, min: 1, max: 10 } as const;
export const MAX_CALLS_PER_LINE = { default: 10, min: 1, max: 100 } as const;

/** How long a voicemail's playback URL (S3 presigned GET) stays valid, seconds. */
export const PLAYBACK_URL_SECONDS = 300;

/** Each function's time-out (the local app times its handlers out the same). */
export const FUNCTION_TIMEOUT_SECONDS = 10;

/**
 * The functions that need longer: the recording callback makes three sequential calls of up to 5 s each
 * (Twilio download, S3 put, Twilio delete), inside Twilio's 15 s callback time-out; the registry upgrade of
 * `cdk deploy` copies every device once.
 */
export const LONGER_FUNCTION_TIMEOUT_SECONDS: Readonly<Record<string, number>> = { recordingStatus: 15, registryUpgrade: 300 };

/** A function's time-out in seconds, by its id (lib/api/routes.ts FunctionId). */
export function functionTimeoutSeconds(id: string): number {
  return LONGER_FUNCTION_TIMEOUT_SECONDS[id] ?? FUNCTION_TIMEOUT_SECONDS;
}

/**
 * API throttling (requests per second, burst): the browser's routes (the token API; context throttleRateLimit /
 * throttleBurstLimit) and Twilio's webhooks (webhookThrottleRateLimit / webhookThrottleBurstLimit) each have
 * their own limits, so a flood on one cannot starve the other.
 */
export const THROTTLE = {
  default: { rateLimit: 10, burstLimit: 20 },
  webhookDefault: { rateLimit: 50, burstLimit: 100 },
  rateLimit: { min: 1, max: 10000 },
  burstLimit: { min: 1, max: 5000 },
} as const;

export const DEFAULT_STACK_NAME = 'TwilioSoftphoneStack';

/** The stack's outputs, by CfnOutput id: what `twilio:setup` and `doctor` read (docs/architecture.md). */
export const STACK_OUTPUT_IDS = [
  'ApiUrl',
  'TokenUrl',
  'IncomingCallWebhookUrl',
  'OutgoingCallWebhookUrl',
  'SoftphoneUrl',
  'DevicesTableName',
  'AttemptsTableName',
  'TwilioSecretName',
  'CallsTableName',
] as const;
export type StackOutputId = (typeof STACK_OUTPUT_IDS)[number];
export type StackOutputs = Record<StackOutputId, string>;

/** A setting with a bad value; the message names the setting and what it must be. */
export class SettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingError';
  }
}

/** A trimmed string, or undefined for unset/empty values. */
function text(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  return String(raw).trim() || undefined;
}

/** A whole number in [min, max]; undefined when unset. */
export function parseWholeNumber(raw: unknown, name: string, bounds: { min: number; max: number }): number | undefined {
  const value = text(raw);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < bounds.min || Number(value) > bounds.max) {
    throw new SettingError(`${name} must be a whole number between ${bounds.min} and ${bounds.max}, got "${String(raw)}"`);
  }
  return Number(value);
}

export function parseTokenTtl(raw: unknown, name: string): number {
  return parseWholeNumber(raw, name, TOKEN_TTL_SECONDS) ?? TOKEN_TTL_SECONDS.default;
}

/** ISO 3166-1 alpha-2 codes, from `JP,US` or a list; upper-cased, each once; undefined when unset. */
export function parseCountries(raw: unknown, name: string): string[] | undefined {
  if (!Array.isArray(raw) && text(raw) === undefined) return undefined;
  const list = (Array.isArray(raw) ? raw.map(String) : String(raw).split(',')).map((c) => c.trim().toUpperCase()).filter((c) => c !== '');
  if (list.length === 0 || list.some((c) => !/^[A-Z]{2}$/.test(c))) {
    throw new SettingError(`${name} must be ISO 3166-1 alpha-2 codes like JP,US, got "${String(raw)}"`);
  }
  return [...new Set(list)];
}

/**
 * The base URL Twilio calls (PUBLIC_BASE_URL / context publicBaseUrl), without a trailing slash; https only
 * unless `allowHttp` (the local app behind a tunnel); no query or fragment (Twilio signs the URL it calls).
 */
export function parseBaseUrl(raw: unknown, name: string, opts: { allowHttp: boolean }): string | undefined {
  const value = text(raw)?.replace(/\/+$/, '');
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const schemes = opts.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!url || !schemes.includes(url.protocol) || url.search || url.hash) {
    throw new SettingError(`${name} must be an ${opts.allowHttp ? 'http(s)' : 'https'} URL without query or fragment, got "${String(raw)}"`);
  }
  return value;
}

/** `*` or an origin `scheme://host[:port]`: it goes into single-quoted API Gateway header mappings, so nothing else. */
export function parseAllowedOrigin(raw: unknown, name: string): string | undefined {
  const value = text(raw);
  if (value === undefined || value === '*') return value;
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(value)) {
    throw new SettingError(`${name} must be "*" or an origin like https://phone.example.com (no path), got "${value}"`);
  }
  return value;
}

/**
 * The softphone's Twilio edge(s), for config.json's `edge` (context twilioEdge, local TWILIO_EDGE): `roaming`, or
 * edge names in order of preference, comma-separated; each must be one of `known` (the Voice SDK's names, from
 * client/src/config.ts, passed in so this module stays free of the page). Undefined when unset (the page's default).
 */
export function parseEdges(raw: unknown, name: string, known: readonly string[]): string[] | undefined {
  if (!Array.isArray(raw) && text(raw) === undefined) return undefined;
  const list = (Array.isArray(raw) ? raw.map(String) : String(raw).split(',')).map((e) => e.trim().toLowerCase()).filter((e) => e !== '');
  const unknown = list.filter((e) => !known.includes(e));
  if (list.length === 0 || unknown.length > 0) {
    throw new SettingError(`${name} must be Twilio edge names (${known.join(', ')}), got "${String(raw)}"`);
  }
  return [...new Set(list)];
}

/** A CloudFormation stack name. */
export function parseStackName(raw: unknown, name: string): string {
  const value = text(raw) ?? DEFAULT_STACK_NAME;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(value)) throw new SettingError(`${name} is not a valid stack name: "${value}"`);
  return value;
}

/** `on`/`true`/`1` → true, `off`/`false`/`0` → false (any case); undefined for anything else. */
function onOff(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (v === 'on' || v === 'true' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === '0') return false;
  return undefined;
}

/** A yes/no setting (`true`/`false`, `on`/`off`, `1`/`0`, or a JSON boolean from cdk.json); undefined when unset. */
export function parseFlag(raw: unknown, name: string): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  const value = text(raw);
  if (value === undefined) return undefined;
  const flag = onOff(value);
  if (flag === undefined) throw new SettingError(`${name} must be true or false, got "${String(raw)}"`);
  return flag;
}

function parseSwitch(raw: unknown, name: string): boolean {
  const on = onOff(text(raw) ?? 'on');
  if (on === undefined) throw new SettingError(`${name} must be "on" or "off", got "${String(raw)}"`);
  return on;
}

/** The functions' run-time configuration (docs/architecture.md, "Lambda environment"). */
export interface AppConfig {
  /** TOKEN_TTL_SECONDS */
  tokenTtlSeconds: number;
  /** PUBLIC_BASE_URL, e.g. https://voice.example.com/prod (custom domains; the local app's tunnel) */
  publicBaseUrl?: string;
  /** https on AWS; the local app sets http. */
  webhookScheme: 'https' | 'http';
  /** WEBHOOK_SIGNATURE_VALIDATION=off disables; on by default. */
  validateWebhookSignatures: boolean;
  /** ALLOWED_DESTINATION_COUNTRIES=JP,US; default (undefined): the caller's own number's country. */
  allowedDestinationCountries?: string[];
  /** CALL_TIME_LIMIT_SECONDS: the longest an outgoing call may last. */
  callTimeLimitSeconds: number;
  /** VOICEMAIL_RETENTION_DAYS: how long voicemails are kept. */
  voicemailRetentionDays: number;
  /** CALL_LOG_RETENTION_DAYS: how long the call log keeps a call. */
  callLogRetentionDays: number;
  /** MAX_CALLS_PER_DEVICE: simultaneous outgoing calls of one device. */
  maxCallsPerDevice: number;
  /** MAX_CALLS_PER_LINE: simultaneous outgoing calls of all of a line's devices. */
  maxCallsPerLine: number;
  /** SOFTPHONE_URL: the softphone's address, for notifications ("open the softphone to listen") */
  softphoneUrl?: string;
}

/** Reads the configuration from an environment; throws a SettingError on a bad value (a misconfigured function must not start). */
export function loadConfig(env: NodeJS.ProcessEnv): AppConfig {
  const scheme = (text(env.WEBHOOK_SCHEME) ?? 'https').toLowerCase();
  if (scheme !== 'https' && scheme !== 'http') throw new SettingError(`WEBHOOK_SCHEME must be "https" or "http", got "${env.WEBHOOK_SCHEME}"`);
  const config: AppConfig = {
    tokenTtlSeconds: parseTokenTtl(env.TOKEN_TTL_SECONDS, 'TOKEN_TTL_SECONDS'),
    webhookScheme: scheme,
    validateWebhookSignatures: parseSwitch(env.WEBHOOK_SIGNATURE_VALIDATION, 'WEBHOOK_SIGNATURE_VALIDATION'),
    callTimeLimitSeconds:
      parseWholeNumber(env.CALL_TIME_LIMIT_SECONDS, 'CALL_TIME_LIMIT_SECONDS', CALL_TIME_LIMIT_SECONDS) ?? CALL_TIME_LIMIT_SECONDS.default,
    voicemailRetentionDays:
      parseWholeNumber(env.VOICEMAIL_RETENTION_DAYS, 'VOICEMAIL_RETENTION_DAYS', VOICEMAIL_RETENTION_DAYS) ?? VOICEMAIL_RETENTION_DAYS.default,
    callLogRetentionDays:
      parseWholeNumber(env.CALL_LOG_RETENTION_DAYS, 'CALL_LOG_RETENTION_DAYS', CALL_LOG_RETENTION_DAYS) ?? CALL_LOG_RETENTION_DAYS.default,
    maxCallsPerDevice: parseWholeNumber(env.MAX_CALLS_PER_DEVICE, 'MAX_CALLS_PER_DEVICE', MAX_CALLS_PER_DEVICE) ?? MAX_CALLS_PER_DEVICE.default,
    maxCallsPerLine: parseWholeNumber(env.MAX_CALLS_PER_LINE, 'MAX_CALLS_PER_LINE', MAX_CALLS_PER_LINE) ?? MAX_CALLS_PER_LINE.default,
  };
  const softphoneUrl = parseBaseUrl(env.SOFTPHONE_URL, 'SOFTPHONE_URL', { allowHttp: true });
  if (softphoneUrl) config.softphoneUrl = softphoneUrl;
  const base = parseBaseUrl(env.PUBLIC_BASE_URL, 'PUBLIC_BASE_URL', { allowHttp: true });
  if (base) config.publicBaseUrl = base;
  const countries = parseCountries(env.ALLOWED_DESTINATION_COUNTRIES, 'ALLOWED_DESTINATION_COUNTRIES');
  if (countries) config.allowedDestinationCountries = countries;
  return config;
}
