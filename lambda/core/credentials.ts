/**
 * Twilio credentials: one Secrets Manager secret (JSON) in AWS, environment variables locally.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { awsClientConfig } from './aws-clients';

export interface TwilioCredentials {
  accountSid: string;
  apiKeySid: string;
  apiKeySecret: string;
  authToken: string;
  twimlAppSid: string;
}
export type CredentialsProvider = () => Promise<TwilioCredentials>;

export const CREDENTIAL_FIELDS: readonly (keyof TwilioCredentials)[] = [
  'accountSid',
  'apiKeySid',
  'apiKeySecret',
  'authToken',
  'twimlAppSid',
];

/** Environment variable for each credential field (local use). */
export const CREDENTIAL_ENV_VARS: Readonly<Record<keyof TwilioCredentials, string>> = {
  accountSid: 'TWILIO_ACCOUNT_SID',
  apiKeySid: 'TWILIO_API_KEY_SID',
  apiKeySecret: 'TWILIO_API_KEY_SECRET',
  authToken: 'TWILIO_AUTH_TOKEN',
  twimlAppSid: 'TWILIO_TWIML_APP_SID',
};

/** Thrown when credentials cannot be obtained (Secrets Manager down, secret malformed). Handlers map it to 503 / TwiML. */
export class CredentialsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialsError';
  }
}

/**
 * Checks a parsed secret value and returns the credentials; the error names the missing fields, never values.
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
  return out;
}

export interface SecretsManagerCredentialsOptions {
  /** A ready client (tests inject one wrapped by aws-sdk-client-mock); default: a client with timeouts and bounded retries. */
  client?: SecretsManagerClient;
}

/**
 * Fetches the secret once per container and caches it. A failed fetch is not cached, so the next request
 * after Secrets Manager recovers succeeds. Concurrent first calls share one fetch.
 */
export function secretsManagerCredentials(secretId: string, opts: SecretsManagerCredentialsOptions = {}): CredentialsProvider {
  let provider: SecretsProvider | undefined;
  let cached: TwilioCredentials | undefined;
  let inflight: Promise<TwilioCredentials> | undefined;
  const fetchOnce = async (): Promise<TwilioCredentials> => {
    provider ??= opts.client ? new SecretsProvider({ awsSdkV3Client: opts.client }) : new SecretsProvider({ clientConfig: awsClientConfig() });
    let raw: unknown;
    try {
      // Our own cache holds the value for the container's life; Powertools' cache is bypassed.
      raw = await provider.get(secretId, { forceFetch: true });
    } catch (err) {
      throw new CredentialsError(`Could not read the Twilio secret ${secretId}: ${errorName(err)}`, { cause: err });
    }
    if (typeof raw !== 'string') throw new CredentialsError(`The Twilio secret ${secretId} has no SecretString`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new CredentialsError(`The Twilio secret ${secretId} is not valid JSON`);
    }
    return parseCredentials(parsed, secretId);
  };
  return async () => {
    if (cached) return cached;
    inflight ??= fetchOnce().then(
      (creds) => {
        cached = creds;
        inflight = undefined;
        return creds;
      },
      (err: unknown) => {
        inflight = undefined;
        throw err;
      },
    );
    return inflight;
  };
}

export function staticCredentials(creds: TwilioCredentials): CredentialsProvider {
  const value = parseCredentials(creds, '(static)');
  return () => Promise.resolve(value);
}

/** Credentials from TWILIO_* variables; undefined when none is set; throws naming the missing ones when only some are. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): TwilioCredentials | undefined {
  const values: Record<string, string | undefined> = {};
  for (const f of CREDENTIAL_FIELDS) values[f] = env[CREDENTIAL_ENV_VARS[f]]?.trim() || undefined;
  const set = CREDENTIAL_FIELDS.filter((f) => values[f] !== undefined);
  if (set.length === 0) return undefined;
  const missing = CREDENTIAL_FIELDS.filter((f) => values[f] === undefined).map((f) => CREDENTIAL_ENV_VARS[f]);
  if (missing.length > 0) throw new CredentialsError(`Twilio credentials are incomplete: set ${missing.join(', ')}`);
  return values as unknown as TwilioCredentials;
}

function errorName(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
