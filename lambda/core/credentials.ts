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
/**
 * Returns the current credentials. `refresh`, when the source can change under a running container (Secrets
 * Manager), re-reads it now, bypassing the cache: the webhooks call it when a signature does not match the cached
 * Auth Token (it may just have been rotated). It is rate-limited per provider and resolves to `undefined` when it
 * did not fetch (rate limit reached, or the fetch failed); it never rejects.
 */
export interface CredentialsProvider {
  (): Promise<TwilioCredentials>;
  refresh?: () => Promise<TwilioCredentials | undefined>;
}

/** How long a warm container reuses the secret before reading it again (a rotated key is picked up within this). */
export const CREDENTIALS_MAX_AGE_SECONDS = 300;
/** At most one forced re-read (signature mismatch) per this many seconds per container: no denial of wallet. */
export const CREDENTIALS_FORCED_REFRESH_INTERVAL_SECONDS = 60;
/** After a failed re-read of an expired secret, the stale value is used and the next read waits this long. */
export const CREDENTIALS_RETRY_AFTER_FAILURE_SECONDS = 30;

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
  /** Default CREDENTIALS_MAX_AGE_SECONDS. */
  maxAgeSeconds?: number;
  /** Default CREDENTIALS_FORCED_REFRESH_INTERVAL_SECONDS. */
  forcedRefreshIntervalSeconds?: number;
  /** Clock in epoch milliseconds (tests); default Date.now. */
  now?: () => number;
}

/**
 * Reads the secret on first use and caches it for `maxAgeSeconds` (default 5 minutes), so warm invocations make no
 * Secrets Manager call and a rotated Auth Token or API key is picked up within that period without a redeploy.
 * Concurrent callers share one fetch. A failed first fetch is not cached (the next request retries); a failed
 * re-read of an expired value keeps serving the stale value and retries after CREDENTIALS_RETRY_AFTER_FAILURE_SECONDS,
 * so a Secrets Manager outage does not take down warm containers. `refresh()` forces a re-read at most once per
 * `forcedRefreshIntervalSeconds`.
 */
export function secretsManagerCredentials(secretId: string, opts: SecretsManagerCredentialsOptions = {}): CredentialsProvider {
  const now = opts.now ?? Date.now;
  const maxAgeMs = (opts.maxAgeSeconds ?? CREDENTIALS_MAX_AGE_SECONDS) * 1000;
  const forcedIntervalMs = (opts.forcedRefreshIntervalSeconds ?? CREDENTIALS_FORCED_REFRESH_INTERVAL_SECONDS) * 1000;
  const retryAfterFailureMs = CREDENTIALS_RETRY_AFTER_FAILURE_SECONDS * 1000;
  let provider: SecretsProvider | undefined;
  /** The newest value read, when its read started, and when it must be read again. */
  let cached: { creds: TwilioCredentials; fetchedAt: number; expiresAt: number } | undefined;
  let inflight: Promise<TwilioCredentials> | undefined;
  let lastForcedAt: number | undefined;

  const fetchSecret = async (): Promise<TwilioCredentials> => {
    provider ??= opts.client ? new SecretsProvider({ awsSdkV3Client: opts.client }) : new SecretsProvider({ clientConfig: awsClientConfig() });
    let raw: unknown;
    try {
      // Our own cache (below) decides when to read; Powertools' cache is bypassed.
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

  /** Starts a read; every caller until it settles shares it. */
  const load = (): Promise<TwilioCredentials> => {
    const startedAt = now();
    const p: Promise<TwilioCredentials> = fetchSecret().then(
      (creds) => {
        // An older read finishing after a newer one must not overwrite it.
        if (!cached || startedAt >= cached.fetchedAt) cached = { creds, fetchedAt: startedAt, expiresAt: now() + maxAgeMs };
        return cached.creds;
      },
      (err: unknown) => {
        if (cached) {
          // Keep the last good value rather than failing every request while Secrets Manager is unavailable.
          cached.expiresAt = Math.max(cached.expiresAt, now() + retryAfterFailureMs);
          return cached.creds;
        }
        throw err;
      },
    );
    const tracked = p.finally(() => {
      if (inflight === tracked) inflight = undefined;
    });
    inflight = tracked;
    return tracked;
  };

  const get = (async () => {
    if (cached && now() < cached.expiresAt) return cached.creds;
    return inflight ?? load();
  }) as CredentialsProvider;

  get.refresh = async () => {
    const t = now();
    if (lastForcedAt !== undefined && t - lastForcedAt < forcedIntervalMs) return undefined;
    lastForcedAt = t;
    const before = cached;
    try {
      const creds = await load();
      // load() falls back to the stale value on failure: report "not refreshed" then.
      return cached !== before || !before ? creds : undefined;
    } catch {
      return undefined;
    }
  };
  return get;
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
