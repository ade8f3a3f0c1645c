/**
 * The Twilio credentials from one Secrets Manager secret (JSON, `TwilioCredentials`), cached per container:
 * Powertools Parameters reads it, the cache rules below decide when.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import {
  CREDENTIALS_FORCED_REFRESH_INTERVAL_SECONDS,
  CREDENTIALS_MAX_AGE_SECONDS,
  CREDENTIALS_RETRY_AFTER_FAILURE_SECONDS,
  parseCredentials,
} from '../core/credentials';
import { CredentialsError, type CredentialsProvider, type TwilioCredentials } from '../ports';
import { awsClientConfig } from './aws-clients';

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

function errorName(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
