/**
 * Twilio credentials as data: their fields, how a secret's JSON or the TWILIO_* variables become
 * `TwilioCredentials`, and the caching periods the Secrets Manager adapter (`adapters/secrets-manager-credentials.ts`)
 * keeps. One Secrets Manager secret (JSON) in AWS, environment variables locally.
 */
import { CredentialsError, type CredentialsProvider, type TwilioCredentials } from '../ports';

/** How long a warm container reuses the secret before reading it again (a rotated key is picked up within this). */
export const CREDENTIALS_MAX_AGE_SECONDS = 300;
/** At most one forced re-read (signature mismatch) per this many seconds per container: no denial of wallet. */
export const CREDENTIALS_FORCED_REFRESH_INTERVAL_SECONDS = 60;
/** After a failed re-read of an expired secret, the stale value is used and the next read waits this long. */
export const CREDENTIALS_RETRY_AFTER_FAILURE_SECONDS = 30;

/** The fields every set of credentials has. */
export const CREDENTIAL_FIELDS = [
  'accountSid',
  'apiKeySid',
  'apiKeySecret',
  'authToken',
  'twimlAppSid',
] as const satisfies readonly (keyof TwilioCredentials)[];

/** The fields a set of credentials may have (the secrets made before them stay valid): "Test my setup"'s TwiML App. */
export const OPTIONAL_CREDENTIAL_FIELDS = ['preflightTwimlAppSid'] as const satisfies readonly (keyof TwilioCredentials)[];

/** Environment variable for each credential field (local use). */
export const CREDENTIAL_ENV_VARS: Readonly<Record<keyof TwilioCredentials, string>> = {
  accountSid: 'TWILIO_ACCOUNT_SID',
  apiKeySid: 'TWILIO_API_KEY_SID',
  apiKeySecret: 'TWILIO_API_KEY_SECRET',
  authToken: 'TWILIO_AUTH_TOKEN',
  twimlAppSid: 'TWILIO_TWIML_APP_SID',
  preflightTwimlAppSid: 'TWILIO_PREFLIGHT_TWIML_APP_SID',
};

/**
 * Checks a parsed secret value and returns the credentials; the error names the missing fields, never values.
 * An optional field is kept when it is a non-empty string and left out otherwise (absent, empty or not a string:
 * what it enables is then "not configured").
 */
export function parseCredentials(value: unknown, source: string): TwilioCredentials {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CredentialsError(`The Twilio secret ${source} is not a JSON object with ${CREDENTIAL_FIELDS.join(', ')}`);
  }
  const record = value as Record<string, unknown>;
  const missing = CREDENTIAL_FIELDS.filter((f) => typeof record[f] !== 'string' || (record[f] as string).trim() === '');
  if (missing.length > 0) {
    throw new CredentialsError(`The Twilio secret ${source} is missing the field(s): ${missing.join(', ')}`);
  }
  const out = {} as TwilioCredentials;
  for (const f of CREDENTIAL_FIELDS) out[f] = (record[f] as string).trim();
  for (const f of OPTIONAL_CREDENTIAL_FIELDS) {
    const value = typeof record[f] === 'string' ? (record[f] as string).trim() : '';
    if (value !== '') out[f] = value;
  }
  return out;
}

export function staticCredentials(creds: TwilioCredentials): CredentialsProvider {
  const value = parseCredentials(creds, '(static)');
  return () => Promise.resolve(value);
}

/**
 * Credentials from TWILIO_* variables; undefined when none of the required ones is set; throws naming the missing
 * ones when only some are. TWILIO_PREFLIGHT_TWIML_APP_SID is optional.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): TwilioCredentials | undefined {
  const values: Record<string, string | undefined> = {};
  for (const f of CREDENTIAL_FIELDS) values[f] = env[CREDENTIAL_ENV_VARS[f]]?.trim() || undefined;
  const set = CREDENTIAL_FIELDS.filter((f) => values[f] !== undefined);
  if (set.length === 0) return undefined;
  const missing = CREDENTIAL_FIELDS.filter((f) => values[f] === undefined).map((f) => CREDENTIAL_ENV_VARS[f]);
  if (missing.length > 0) throw new CredentialsError(`Twilio credentials are incomplete: set ${missing.join(', ')}`);
  for (const f of OPTIONAL_CREDENTIAL_FIELDS) {
    const value = env[CREDENTIAL_ENV_VARS[f]]?.trim();
    if (value) values[f] = value;
  }
  return values as unknown as TwilioCredentials;
}
