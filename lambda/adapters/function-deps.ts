/**
 * Each function's deps, built from its environment in Lambda: one builder per FunctionId, so a bundle carries
 * only the clients its handler uses (the entry picks the builder by the same build-time constant as the
 * handler; the S3 and SNS clients stay out of every bundle but the voicemail ones).
 *
 * Environment (set by lib/constructs/softphone-functions.ts): REGISTRY_TABLE, ATTEMPTS_TABLE, TWILIO_SECRET_ID,
 * RECORDINGS_BUCKET and VOICEMAIL_TOPIC_ARN (voicemail functions), CALLS_TABLE (the functions that write or read the call log), LEGACY_DEVICES_TABLE (the upgrade), and the
 * settings `loadConfig` reads. Building deps is cheap: SDK clients connect on first use; the secret is fetched
 * on demand and cached (secrets-manager-credentials.ts). Every AWS client is created here and handed to
 * `capture` (in Lambda: the X-Ray tracer's `captureAWSv3Client`, lambda-runtime.ts); one DynamoDB client serves
 * all of a function's tables.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadConfig } from '../core/settings';
import type { HandlerDeps } from '../handlers/deps';
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

/** What every function has: the registry of lines, the sign-in attempts, the Twilio secret, the settings. */
const registry = (env: NodeJS.ProcessEnv, capture: CaptureClient, client: DynamoDBClient): HandlerDeps => ({
  lines: new DynamoLineDirectory({ client, table: required(env, 'REGISTRY_TABLE') }),
  attempts: new DynamoAttemptStore({ client, table: required(env, 'ATTEMPTS_TABLE') }),
  credentials: secretsManagerCredentials(required(env, 'TWILIO_SECRET_ID'), { client: capture(new SecretsManagerClient(awsClientConfig())) }),
  config: loadConfig(env),
});

/** The call log (the calls table). */
const callLogOf = (env: NodeJS.ProcessEnv, deps: HandlerDeps, client: DynamoDBClient): DynamoCallLog =>
  new DynamoCallLog({ client, table: required(env, 'CALLS_TABLE'), retentionDays: deps.config.callLogRetentionDays });

/** Plus the voicemails of the registry table and the recordings bucket. */
const withVoicemails = (env: NodeJS.ProcessEnv, capture: CaptureClient, client: DynamoDBClient): HandlerDeps => ({
  ...registry(env, capture, client),
  voicemails: new DynamoVoicemailStore({ client, table: required(env, 'REGISTRY_TABLE') }),
  recordings: new S3RecordingStore(required(env, 'RECORDINGS_BUCKET'), capture(createS3Client())),
});

/**
 * Each builder below creates one DynamoDB client for all of its function's tables. They stay plain functions (no
 * factory called at module scope), so a bundle tree-shakes the builders, and their SDK clients, it does not use.
 */
const dynamo = (capture: CaptureClient): DynamoDBClient => capture(createDynamoClient());

const registryOnly: DepsBuilder = (env, capture = uncaptured) => registry(env, capture, dynamo(capture));

const callLog: DepsBuilder = (env, capture = uncaptured) => {
  const client = dynamo(capture);
  const deps = registry(env, capture, client);
  return { ...deps, calls: callLogOf(env, deps, client) };
};

const voicemailStore: DepsBuilder = (env, capture = uncaptured) => withVoicemails(env, capture, dynamo(capture));

export const token = registryOnly;
export const callIncoming = registryOnly;
export const callOutgoing = callLog;
export const callStatus = callLog;
export const calls = callLog;
export const callAction = callLog;
export const forwardScreen = registryOnly;
export const directory = registryOnly;
export const pageAuthorizer = registryOnly;
export const voicemails = voicemailStore;

export const twilioDebugger = registryOnly;
export const preflight = registryOnly;

export const recordingStatus: DepsBuilder = (env, capture = uncaptured) => {
  const client = dynamo(capture);
  const deps = withVoicemails(env, capture, client);
  return {
    ...deps,
    calls: callLogOf(env, deps, client),
    twilioRecordings: new HttpTwilioRecordings(deps.credentials),
    notifier: new SnsNotifier(required(env, 'VOICEMAIL_TOPIC_ARN'), deps.config.softphoneUrl, capture(createSnsClient())),
  };
};

export const registryUpgrade: DepsBuilder = (env, capture = uncaptured) => {
  const client = dynamo(capture);
  const deps = registry(env, capture, client);
  const legacyTable = required(env, 'LEGACY_DEVICES_TABLE');
  return { ...deps, upgradeRegistry: () => upgradeRegistry({ client, legacyTable, lines: deps.lines }) };
};
