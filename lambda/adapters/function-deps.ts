/**
 * Each function's deps, built from its environment in Lambda: one builder per FunctionId, so a bundle carries
 * only the clients its handler uses (the entry picks the builder by the same build-time constant as the
 * handler; the S3 and SNS clients stay out of every bundle but the voicemail ones).
 *
 * Environment (set by lib/constructs/softphone-functions.ts): TWILIO_SECRET_ID (read by the functions that hold the
 * secret: not the page's own routes nor the upgrade), REGISTRY_TABLE and ATTEMPTS_TABLE (all but the Debugger webhook
 * and the page authorizer, which ask DynamoDB nothing), RECORDINGS_BUCKET and VOICEMAIL_TOPIC_ARN (voicemail
 * functions), CALLS_TABLE (the functions that write or read the call log), LEGACY_DEVICES_TABLE (the upgrade), and
 * the settings `loadConfig` reads. Building deps is cheap: SDK clients connect on first use; the secret is fetched
 * on demand and cached (secrets-manager-credentials.ts). Every AWS client is created here and handed to
 * `capture` (in Lambda: the X-Ray tracer's `captureAWSv3Client`, lambda-runtime.ts); one DynamoDB client serves
 * all of a function's tables.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadConfig } from '../core/settings';
import { type HandlerDeps, requireDeps } from '../handlers/deps';
import { awsClientConfig, type CaptureClient, uncaptured } from './aws-clients';
import { createDynamoClient } from './dynamo';
import { DynamoAttemptStore } from './dynamo-attempt-store';
import { DynamoCallLog } from './dynamo-call-log';
import { DynamoLineDirectory } from './dynamo-line-directory';
import { DynamoVoicemailStore } from './dynamo-voicemail-store';
import { upgradeRegistry } from './registry-upgrade';
import { createS3Client, S3RecordingStore } from './s3-recording-store';
import { secretsManagerCredentials } from './secrets-manager-credentials';
import { createSnsClient, SnsNotifier } from './sns-notifier';
import { HttpTwilioRecordings } from './twilio-recordings';

/** A function's deps from its environment; `capture` is given every AWS client it creates (default: none). */
export type DepsBuilder = (env: NodeJS.ProcessEnv, capture?: CaptureClient) => HandlerDeps;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`The environment variable ${name} is not set`);
  return value;
}

/** The Twilio secret: Twilio's webhooks (signatures), Access Tokens, the recordings API. */
const twilioSecret = (env: NodeJS.ProcessEnv, capture: CaptureClient): Pick<HandlerDeps, 'credentials'> => ({
  credentials: secretsManagerCredentials(required(env, 'TWILIO_SECRET_ID'), { client: capture(new SecretsManagerClient(awsClientConfig())) }),
});

/** The secret and the settings. */
const secretAndSettings = (env: NodeJS.ProcessEnv, capture: CaptureClient): HandlerDeps => ({
  ...twilioSecret(env, capture),
  config: loadConfig(env),
});

/** The registry of lines, the sign-in attempts and the settings: the page's own routes (no Twilio secret). */
const registryAndSettings = (env: NodeJS.ProcessEnv, client: DynamoDBClient): HandlerDeps => ({
  lines: new DynamoLineDirectory({ client, table: required(env, 'REGISTRY_TABLE') }),
  attempts: new DynamoAttemptStore({ client, table: required(env, 'ATTEMPTS_TABLE') }),
  config: loadConfig(env),
});

/** Both: the registry, the attempts, the secret and the settings. */
const registry = (env: NodeJS.ProcessEnv, capture: CaptureClient, client: DynamoDBClient): HandlerDeps => ({
  ...registryAndSettings(env, client),
  ...twilioSecret(env, capture),
});

/** The call log (the calls table). */
const callLogOf = (env: NodeJS.ProcessEnv, deps: HandlerDeps, client: DynamoDBClient): DynamoCallLog =>
  new DynamoCallLog({ client, table: required(env, 'CALLS_TABLE'), retentionDays: deps.config.callLogRetentionDays });

/** The voicemails of the registry table and the recordings bucket. */
const voicemailsOf = (env: NodeJS.ProcessEnv, capture: CaptureClient, client: DynamoDBClient): Pick<HandlerDeps, 'voicemails' | 'recordings'> => ({
  voicemails: new DynamoVoicemailStore({ client, table: required(env, 'REGISTRY_TABLE') }),
  recordings: new S3RecordingStore(required(env, 'RECORDINGS_BUCKET'), capture(createS3Client())),
});

/**
 * Each builder below creates one DynamoDB client for all of its function's tables. They stay plain functions (no
 * factory called at module scope), so a bundle tree-shakes the builders, and their SDK clients, it does not use.
 */
const dynamo = (capture: CaptureClient): DynamoDBClient => capture(createDynamoClient());

/** Twilio's webhooks and the sign-in: the registry and the secret. */
const registryOnly: DepsBuilder = (env, capture = uncaptured) => registry(env, capture, dynamo(capture));

/** The webhooks that see calls: plus the call log. */
const callLog: DepsBuilder = (env, capture = uncaptured) => {
  const client = dynamo(capture);
  const deps = registry(env, capture, client);
  return { ...deps, calls: callLogOf(env, deps, client) };
};

/** For the handlers that ask DynamoDB nothing (their roles hold no DynamoDB grant): no DynamoDB client in the bundle. */
const secretOnly: DepsBuilder = (env, capture = uncaptured) => secretAndSettings(env, capture);

export const token = registryOnly;
export const callIncoming = registryOnly;
export const callOutgoing = callLog;
export const callStatus = callLog;
export const callAction = callLog;
export const forwardScreen = registryOnly;
export const preflight = registryOnly;
export const twilioDebugger = secretOnly;
export const pageAuthorizer = secretOnly;

// The page's own routes: the authorizer has verified the caller, so they never read the Twilio secret.
export const directory: DepsBuilder = (env, capture = uncaptured) => registryAndSettings(env, dynamo(capture));

export const calls: DepsBuilder = (env, capture = uncaptured) => {
  const client = dynamo(capture);
  const deps = registryAndSettings(env, client);
  return { ...deps, calls: callLogOf(env, deps, client) };
};

export const voicemails: DepsBuilder = (env, capture = uncaptured) => {
  const client = dynamo(capture);
  return { ...registryAndSettings(env, client), ...voicemailsOf(env, capture, client) };
};

export const recordingStatus: DepsBuilder = (env, capture = uncaptured) => {
  const client = dynamo(capture);
  const deps = registry(env, capture, client);
  return {
    ...deps,
    ...voicemailsOf(env, capture, client),
    calls: callLogOf(env, deps, client),
    twilioRecordings: new HttpTwilioRecordings(requireDeps(deps, 'recording status', ['credentials']).credentials),
    notifier: new SnsNotifier(required(env, 'VOICEMAIL_TOPIC_ARN'), deps.config.softphoneUrl, capture(createSnsClient())),
  };
};

/** Run by `cdk deploy`: the registry and the first release's table, no Twilio secret. */
export const registryUpgrade: DepsBuilder = (env, capture = uncaptured) => {
  const client = dynamo(capture);
  const deps = registryAndSettings(env, client);
  const { lines } = requireDeps(deps, 'registry upgrade', ['lines']);
  const legacyTable = required(env, 'LEGACY_DEVICES_TABLE');
  return { ...deps, upgradeRegistry: () => upgradeRegistry({ client, legacyTable, lines }) };
};
