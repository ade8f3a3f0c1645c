/**
 * Builds HandlerDeps from the Lambda environment: DEVICES_TABLE, ATTEMPTS_TABLE, TWILIO_SECRET_ID,
 * TOKEN_TTL_SECONDS, PUBLIC_BASE_URL, ALLOWED_DESTINATION_COUNTRIES, WEBHOOK_SIGNATURE_VALIDATION.
 * Cheap: SDK clients are created here but connect only on first use; the secret is fetched on demand and cached
 * for CREDENTIALS_MAX_AGE_SECONDS (5 minutes), with a rate-limited re-read on a webhook signature mismatch.
 */
import { loadConfig } from '../core/config';
import { secretsManagerCredentials } from '../core/credentials';
import { createLogger } from '../core/logger';
import { createDynamoClient, DynamoRegistry } from '../core/registry';
import type { HandlerDeps } from './deps';

export function depsFromEnvironment(env: NodeJS.ProcessEnv = process.env): HandlerDeps {
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`The environment variable ${name} is not set`);
    return value;
  };
  const config = loadConfig(env);
  const registry = new DynamoRegistry({
    client: createDynamoClient(),
    devicesTable: required('DEVICES_TABLE'),
    attemptsTable: required('ATTEMPTS_TABLE'),
  });
  return {
    registry,
    credentials: secretsManagerCredentials(required('TWILIO_SECRET_ID')),
    config,
    logger: createLogger(),
  };
}

/** A Lambda handler that builds its deps on first use and keeps them for the container's life. */
export function lazyHandler<R>(factory: (deps: HandlerDeps) => (event: unknown) => Promise<R>): (event: unknown) => Promise<R> {
  let fn: ((event: unknown) => Promise<R>) | undefined;
  return (event: unknown) => {
    fn ??= factory(depsFromEnvironment());
    return fn(event);
  };
}
