/**
 * The AWS side of the ops commands: the deployed stack's outputs (CloudFormation DescribeStacks) and the
 * Twilio credentials secret (Secrets Manager). Clients are passed in so tests can mock them.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CREDENTIAL_FIELDS, type TwilioCredentials } from '../../lambda/core/credentials';

export const DEFAULT_STACK_NAME = 'TwilioSoftphoneStack';

/** The stack outputs of docs/architecture.md, by CfnOutput id. */
export interface StackOutputs {
  ApiUrl: string;
  TokenUrl: string;
  IncomingCallWebhookUrl: string;
  OutgoingCallWebhookUrl: string;
  SoftphoneUrl: string;
  DevicesTableName: string;
  AttemptsTableName: string;
  TwilioSecretName: string;
}

export const OUTPUT_IDS: readonly (keyof StackOutputs)[] = [
  'ApiUrl',
  'TokenUrl',
  'IncomingCallWebhookUrl',
  'OutgoingCallWebhookUrl',
  'SoftphoneUrl',
  'DevicesTableName',
  'AttemptsTableName',
  'TwilioSecretName',
];

/**
 * Reads the outputs of `stackName`. An output key matches its id exactly or with the 8-hex-digit suffix CDK
 * adds to CfnOutputs declared inside a construct. Throws an Error that says what to do when the stack or an
 * output is missing.
 */
export async function readStackOutputs(cfn: CloudFormationClient, stackName: string): Promise<StackOutputs> {
  let stack;
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    stack = res.Stacks?.[0];
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/does not exist/i.test(message)) {
      throw new Error(`Stack ${stackName} not found in this account/region. Deploy it with \`npx cdk deploy\` or pass --stack/--region.`);
    }
    throw new Error(`Could not read stack ${stackName}: ${message}`);
  }
  if (!stack) throw new Error(`Stack ${stackName} not found. Deploy it with \`npx cdk deploy\` or pass --stack/--region.`);
  const found: Partial<StackOutputs> = {};
  for (const output of stack.Outputs ?? []) {
    const key = output.OutputKey ?? '';
    const id = OUTPUT_IDS.find((candidate) => key === candidate || new RegExp(`^${candidate}[0-9A-F]{8}$`).test(key));
    if (id && output.OutputValue) found[id] = output.OutputValue;
  }
  const missing = OUTPUT_IDS.filter((id) => !found[id]);
  if (missing.length > 0) {
    throw new Error(`Stack ${stackName} has no output ${missing.join(', ')}; redeploy it with \`npx cdk deploy\`.`);
  }
  return found as StackOutputs;
}

/** The secret's JSON shape is `TwilioCredentials` (lambda/core/credentials.ts); each field's expected form: */
const FIELD_PATTERNS: Record<keyof TwilioCredentials, RegExp> = {
  accountSid: /^AC[0-9a-f]{32}$/,
  apiKeySid: /^SK[0-9a-f]{32}$/,
  apiKeySecret: /^\S{16,}$/,
  authToken: /^\S{16,}$/,
  twimlAppSid: /^AP[0-9a-f]{32}$/,
};

/** Problems with a credentials object, one message per field; empty when it is complete and well-formed. */
export function credentialProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return ['not a JSON object'];
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of CREDENTIAL_FIELDS) {
    const v = record[field];
    if (typeof v !== 'string' || v === '') problems.push(`${field} is missing`);
    else if (!FIELD_PATTERNS[field].test(v)) problems.push(`${field} is malformed`);
  }
  return problems;
}

export type SecretState =
  | { status: 'missing' }
  | { status: 'unreadable'; error: string }
  | { status: 'present'; raw: string; parsed: Partial<Record<keyof TwilioCredentials, string>> | undefined };

/** Reads the secret; a value that is not a JSON object (e.g. a deploy-time placeholder) parses as `undefined`. */
export async function readSecret(sm: SecretsManagerClient, secretId: string): Promise<SecretState> {
  try {
    const res = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
    const raw = res.SecretString ?? '';
    let parsed: Partial<Record<keyof TwilioCredentials, string>> | undefined;
    try {
      const json: unknown = JSON.parse(raw);
      if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
        parsed = {};
        for (const field of CREDENTIAL_FIELDS) {
          const v = (json as Record<string, unknown>)[field];
          if (typeof v === 'string') parsed[field] = v;
        }
      }
    } catch {
      parsed = undefined;
    }
    return { status: 'present', raw, parsed };
  } catch (err) {
    if (err instanceof ResourceNotFoundException || (err as { name?: string }).name === 'ResourceNotFoundException') {
      return { status: 'missing' };
    }
    return { status: 'unreadable', error: err instanceof Error ? err.message : String(err) };
  }
}

/** Writes the credentials as the secret's new current version, after validating them. */
export async function writeSecret(sm: SecretsManagerClient, secretId: string, creds: TwilioCredentials): Promise<void> {
  const problems = credentialProblems(creds);
  if (problems.length > 0) throw new Error(`refusing to write invalid credentials: ${problems.join('; ')}`);
  const body: TwilioCredentials = {
    accountSid: creds.accountSid,
    apiKeySid: creds.apiKeySid,
    apiKeySecret: creds.apiKeySecret,
    authToken: creds.authToken,
    twimlAppSid: creds.twimlAppSid,
  };
  await sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(body) }));
}
