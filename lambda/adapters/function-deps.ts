/**
 * Each function's deps, built from its environment in Lambda: one builder per FunctionId, so a bundle carries
 * only the clients its handler uses (the entry picks the builder by the same build-time constant as the
 * handler; the S3 and SNS clients stay out of every bundle but the voicemail ones).
 *
 * Environment (set by lib/constructs/softphone-functions.ts): REGISTRY_TABLE, ATTEMPTS_TABLE, TWILIO_SECRET_ID,
 * RECORDINGS_BUCKET and VOICEMAIL_TOPIC_ARN (voicemail functions), CALLS_TABLE (the functions that write or read the call log), LEGACY_DEVICES_TABLE (the upgrade), and the
 * settings `loadConfig` reads. Building deps is cheap: SDK clients connect on first use; the secret is fetched
 * on demand and cached (secrets-manager-credentials.ts).
 */
import { loadConfig } from '../core/settings';
import type { HandlerDeps } from '../handlers/deps';
import { createDynamoClient } from './dynamo';
import { DynamoAttemptStore } from './dynamo-attempt-store';
import { DynamoCallLog } from './dynamo-call-log';
import { DynamoLineDirectory } from './dynamo-line-directory';
import { DynamoVoicemailStore } from './dynamo-voicemail-store';
import { upgradeRegistry } from './registry-upgrade';
import { S3RecordingStore } from './s3-recording-store';
import { secretsManagerCredentials } from './secrets-manager-credentials';
import { SnsNotifier } from './sns-notifier';
import { HttpTwilioRecordings } from './twilio-recordings';

export type DepsBuilder = (env: NodeJS.ProcessEnv) => HandlerDeps;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`The environment variable ${name} is not set`);
  return value;
}

/** What every function has: the registry of lines, the sign-in attempts, the Twilio secret, the settings. */
const registry: DepsBuilder = (env) => {
  const client = createDynamoClient();
  return {
    lines: new DynamoLineDirectory({ client, table: required(env, 'REGISTRY_TABLE') }),
    attempts: new DynamoAttemptStore({ client, table: required(env, 'ATTEMPTS_TABLE') }),
    credentials: secretsManagerCredentials(required(env, 'TWILIO_SECRET_ID')),
    config: loadConfig(env),
  };
};

/** The call log (the calls table). */
const callLogOf = (env: NodeJS.ProcessEnv, deps: HandlerDeps): DynamoCallLog =>
  new DynamoCallLog({ client: createDynamoClient(), table: required(env, 'CALLS_TABLE'), retentionDays: deps.config.callLogRetentionDays });

const callLog: DepsBuilder = (env) => {
  const deps = registry(env);
  return { ...deps, calls: callLogOf(env, deps) };
};

/** Plus the voicemails of the registry table and the recordings bucket. */
const voicemailStore: DepsBuilder = (env) => {
  const deps = registry(env);
  return {
    ...deps,
    voicemails: new DynamoVoicemailStore({ client: createDynamoClient(), table: required(env, 'REGISTRY_TABLE') }),
    recordings: new S3RecordingStore(required(env, 'RECORDINGS_BUCKET')),
  };
};

export const token = registry;
export const callIncoming = registry;
export const callOutgoing = callLog;
export const callStatus = callLog;
export const calls = callLog;
export const callAction = registry;
export const forwardScreen = registry;
export const directory = registry;
export const pageAuthorizer = registry;
export const voicemails = voicemailStore;

export const recordingStatus: DepsBuilder = (env) => {
  const deps = voicemailStore(env);
  return {
    ...deps,
    calls: callLogOf(env, deps),
    twilioRecordings: new HttpTwilioRecordings(deps.credentials),
    notifier: new SnsNotifier(required(env, 'VOICEMAIL_TOPIC_ARN'), deps.config.softphoneUrl),
  };
};

export const registryUpgrade: DepsBuilder = (env) => {
  const deps = registry(env);
  const client = createDynamoClient();
  const legacyTable = required(env, 'LEGACY_DEVICES_TABLE');
  return { ...deps, upgradeRegistry: () => upgradeRegistry({ client, legacyTable, lines: deps.lines }) };
};
