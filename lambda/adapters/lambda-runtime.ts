/**
 * The handlers in the Lambda runtime: their deps built from the function's environment, and a log that tags
 * every line with the invocation (Powertools `addContext`: request id, cold start, function) and the route.
 *
 * Environment (set by lib/constructs/softphone-functions.ts): DEVICES_TABLE, ATTEMPTS_TABLE, TWILIO_SECRET_ID,
 * and the settings `loadConfig` reads (TOKEN_TTL_SECONDS, PUBLIC_BASE_URL, ALLOWED_DESTINATION_COUNTRIES,
 * WEBHOOK_SIGNATURE_VALIDATION). Building deps is cheap: SDK clients connect on first use; the secret is
 * fetched on demand and cached (adapters/secrets-manager-credentials.ts).
 */
import type { Context } from 'aws-lambda';
import { loadConfig } from '../core/settings';
import type { Handler, HandlerDeps, HandlerFactory } from '../handlers/deps';
import { createDynamoClient } from './dynamo';
import { DynamoAttemptStore } from './dynamo-attempt-store';
import { DynamoDeviceDirectory } from './dynamo-device-directory';
import { createLogger, powertoolsLog } from './powertools-log';
import { secretsManagerCredentials } from './secrets-manager-credentials';

export function depsFromEnvironment(env: NodeJS.ProcessEnv = process.env): HandlerDeps {
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`The environment variable ${name} is not set`);
    return value;
  };
  const config = loadConfig(env);
  const client = createDynamoClient();
  return {
    devices: new DynamoDeviceDirectory({ client, table: required('DEVICES_TABLE') }),
    attempts: new DynamoAttemptStore({ client, table: required('ATTEMPTS_TABLE') }),
    credentials: secretsManagerCredentials(required('TWILIO_SECRET_ID')),
    config,
  };
}

/**
 * The Lambda handler of a route: builds the route's handler with deps from the environment on first use and
 * keeps it for the container's life; each invocation's log lines carry its context and the route.
 */
export function lambdaHandler(
  route: string,
  factory: HandlerFactory,
  env: NodeJS.ProcessEnv = process.env,
): (event: unknown, context?: Context) => Promise<unknown> {
  const logger = createLogger();
  logger.appendKeys({ route });
  const log = powertoolsLog(logger);
  let handler: Handler | undefined;
  return (event, context) => {
    if (context) logger.addContext(context);
    handler ??= factory(depsFromEnvironment(env));
    return handler(event, { log });
  };
}
