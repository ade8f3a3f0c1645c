/**
 * The AWS side of the ops commands: the deployed stack's outputs (CloudFormation DescribeStacks) and the
 * Twilio credentials secret (Secrets Manager). Clients are passed in so tests can mock them.
 */
import { DescribeStacksCommand, type CloudFormationClient, type DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CREDENTIAL_FIELDS, OPTIONAL_CREDENTIAL_FIELDS } from '../../lambda/core/credentials';
import { STACK_OUTPUT_IDS, type StackOutputs } from '../../lambda/core/settings';
import type { TwilioCredentials } from '../../lambda/ports';

/**
 * Stack states whose outputs are those of a finished deployment (CloudFormation `StackStatus`): created, updated
 * or imported (a failed update rolled back to the previous deployment counts), cleanup included.
 */
const SETTLED_STACK_STATUS = /^(CREATE_COMPLETE|(UPDATE|UPDATE_ROLLBACK|IMPORT|IMPORT_ROLLBACK)_COMPLETE(_CLEANUP_IN_PROGRESS)?)$/;

/**
 * What to do about an AWS error, by its class: credentials missing or refused, permission missing, region
 * missing, or AWS unreachable. `permission` names the IAM action the call needed. Never suggests a redeploy,
 * which cannot fix any of these.
 */
export function awsErrorAdvice(err: unknown, permission: string): string {
  const name = (err as { name?: string } | null)?.name ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return 'no AWS credentials found: configure them (`aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)';
  }
  if (/^(UnrecognizedClient|InvalidClientTokenId|ExpiredToken|InvalidSignature|SignatureDoesNotMatch)/.test(name)) {
    return `AWS refused your credentials (${name}): refresh them (\`aws sso login\`, new access keys) and re-run`;
  }
  if (/AccessDenied|NotAuthorized/i.test(name) || /not authorized/i.test(message)) {
    return `your AWS credentials are not allowed ${permission}: use credentials that are`;
  }
  if (/Region is missing/i.test(message)) return 'no AWS region set: pass --region or set AWS_REGION';
  return `AWS could not be reached (${name || 'Error'}: ${message}): check your network and the region, then re-run`;
}

/** The stack's outputs could not be read: `problem` says what is wrong, `fix` what to do (both in `message`). */
export class StackOutputsError extends Error {
  constructor(
    readonly problem: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(`${problem}: ${fix}.`, options);
    this.name = 'StackOutputsError';
  }
}

const DEPLOY_OR_POINT = 'deploy it with `npx cdk deploy`, or pass the right --stack/--region';

/**
 * Outputs the ops commands read when the stack has them, by name: the operations construct's alarm topic and
 * dashboard. A stack deployed before them lacks them (a release that predates the alarms): doctor reports that,
 * as a stack to deploy again, without failing every other check.
 */
export const OPTIONAL_STACK_OUTPUT_IDS = ['AlarmTopicArn', 'DashboardName'] as const;
export type OptionalStackOutputs = Partial<Record<(typeof OPTIONAL_STACK_OUTPUT_IDS)[number], string>>;

/** `key` is output `id`: exactly, or with the 8-hex-digit suffix CDK adds to a CfnOutput declared inside a construct. */
function isOutput(key: string, id: string): boolean {
  return key === id || new RegExp(`^${id}[0-9A-F]{8}$`).test(key);
}

/**
 * Reads the outputs of `stackName`. An output key matches its id exactly or with the 8-hex-digit suffix CDK
 * adds to CfnOutputs declared inside a construct. Throws a StackOutputsError that says what to do when the
 * stack or an output is missing, the stack is mid-deployment, or AWS refuses the call.
 */
export async function readStackOutputs(cfn: CloudFormationClient, stackName: string): Promise<StackOutputs> {
  return (await readDeployedStack(cfn, stackName)).outputs;
}

/** As readStackOutputs, with the optional outputs (OPTIONAL_STACK_OUTPUT_IDS) the stack has. */
export async function readDeployedStack(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<{ outputs: StackOutputs; optional: OptionalStackOutputs }> {
  let stack: NonNullable<DescribeStacksCommandOutput['Stacks']>[number] | undefined;
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    stack = res.Stacks?.[0];
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // CloudFormation answers an unknown stack with ValidationError "Stack with id <name> does not exist".
    if ((err as { name?: string }).name === 'ValidationError' && /does not exist/i.test(message)) {
      throw new StackOutputsError(`Stack ${stackName} not found in this account/region`, DEPLOY_OR_POINT, { cause: err });
    }
    throw new StackOutputsError(`Could not read stack ${stackName}`, awsErrorAdvice(err, 'cloudformation:DescribeStacks on it'), { cause: err });
  }
  if (!stack) throw new StackOutputsError(`Stack ${stackName} not found in this account/region`, DEPLOY_OR_POINT);
  const status = stack.StackStatus ?? '';
  if (!SETTLED_STACK_STATUS.test(status)) {
    const advice = status.endsWith('_IN_PROGRESS')
      ? 'wait for the deployment to finish, then re-run'
      : 'see the stack events in the CloudFormation console, fix the cause and deploy again with `npx cdk deploy`';
    throw new StackOutputsError(`Stack ${stackName} is ${status}`, advice);
  }
  const found: Partial<StackOutputs> = {};
  const optional: OptionalStackOutputs = {};
  for (const output of stack.Outputs ?? []) {
    const key = output.OutputKey ?? '';
    const id = STACK_OUTPUT_IDS.find((candidate) => isOutput(key, candidate));
    if (id && output.OutputValue) found[id] = output.OutputValue;
    const optionalId = OPTIONAL_STACK_OUTPUT_IDS.find((candidate) => isOutput(key, candidate));
    if (optionalId && output.OutputValue) optional[optionalId] = output.OutputValue;
  }
  const missing = STACK_OUTPUT_IDS.filter((id) => !found[id]);
  if (missing.length > 0) {
    // e.g. a stack deployed before a release that added an output (CallsTableName came with the call log)
    throw new StackOutputsError(
      `Stack ${stackName} has no output ${missing.join(', ')}`,
      'it was deployed from another (e.g. an earlier) version of this app; deploy this one with `npx cdk deploy`, then re-run',
    );
  }
  return { outputs: found as StackOutputs, optional };
}

/** The secret's JSON shape is `TwilioCredentials` (lambda/ports.ts); each field's expected form: */
const FIELD_PATTERNS: Record<keyof TwilioCredentials, RegExp> = {
  accountSid: /^AC[0-9a-f]{32}$/,
  apiKeySid: /^SK[0-9a-f]{32}$/,
  apiKeySecret: /^\S{16,}$/,
  authToken: /^\S{16,}$/,
  twimlAppSid: /^AP[0-9a-f]{32}$/,
  preflightTwimlAppSid: /^AP[0-9a-f]{32}$/,
};

/**
 * The fields the ops commands read and write: every required one (CREDENTIAL_FIELDS), then the optional ones
 * (OPTIONAL_CREDENTIAL_FIELDS: the "Test my setup" TwiML App), which `twilio:setup` fills and `doctor` checks.
 */
export const SECRET_FIELDS: readonly (keyof TwilioCredentials)[] = [...CREDENTIAL_FIELDS, ...OPTIONAL_CREDENTIAL_FIELDS];

/**
 * Problems with a credentials object, one message per field; empty when it is complete and well-formed. An
 * optional field (preflightTwimlAppSid) may be absent, but when present it must be well-formed.
 */
export function credentialProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return ['not a JSON object'];
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of SECRET_FIELDS) {
    const v = record[field];
    if (v === undefined && (OPTIONAL_CREDENTIAL_FIELDS as readonly string[]).includes(field)) continue;
    if (typeof v !== 'string' || v === '') problems.push(`${field} is missing`);
    else if (!FIELD_PATTERNS[field].test(v)) problems.push(`${field} is malformed`);
  }
  return problems;
}

export type SecretState =
  /** no secret by that name (or ARN) */
  | { status: 'missing' }
  /** the secret exists but has no value yet: CloudFormation creates it so, and twilio:setup fills it */
  | { status: 'empty' }
  /** scheduled for deletion: unusable until restored */
  | { status: 'deleted' }
  | { status: 'unreadable'; error: string; advice: string }
  | { status: 'present'; raw: string; parsed: Partial<Record<keyof TwilioCredentials, string>> | undefined };

const errorName = (err: unknown): string => (err as { name?: string } | null)?.name ?? '';

/**
 * Reads the secret. Secrets Manager answers GetSecretValue with ResourceNotFoundException both for a secret that
 * does not exist and for one that has no value yet ("can't find the specified secret value for staging label:
 * AWSCURRENT"), the state a fresh `cdk deploy` leaves; DescribeSecret tells them apart. A deleted secret
 * answers InvalidRequestException. A value that is not a JSON object (e.g. a placeholder) parses as `undefined`.
 */
export async function readSecret(sm: SecretsManagerClient, secretId: string): Promise<SecretState> {
  let raw: string;
  try {
    const res = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
    raw = res.SecretString ?? '';
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return describeSecretState(sm, secretId, err);
    if (errorName(err) === 'InvalidRequestException' && /marked for deletion/i.test((err as Error).message)) return { status: 'deleted' };
    return {
      status: 'unreadable',
      error: `${errorName(err) || 'Error'}: ${(err as Error)?.message ?? String(err)}`,
      advice: awsErrorAdvice(err, 'secretsmanager:GetSecretValue on it'),
    };
  }
  return { status: 'present', raw, parsed: parseSecretFields(raw) };
}

/** After a ResourceNotFoundException: does the secret exist (with no value yet), or not at all? */
async function describeSecretState(sm: SecretsManagerClient, secretId: string, getError: unknown): Promise<SecretState> {
  try {
    const described = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
    return described.DeletedDate ? { status: 'deleted' } : { status: 'empty' };
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return { status: 'missing' };
    // Without secretsmanager:DescribeSecret, GetSecretValue's own message still tells the first-run state.
    return /staging label/i.test((getError as Error).message) ? { status: 'empty' } : { status: 'missing' };
  }
}

function parseSecretFields(raw: string): Partial<Record<keyof TwilioCredentials, string>> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const parsed: Partial<Record<keyof TwilioCredentials, string>> = {};
  for (const field of SECRET_FIELDS) {
    const v = (json as Record<string, unknown>)[field];
    if (typeof v === 'string') parsed[field] = v;
  }
  return parsed;
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
    ...(creds.preflightTwimlAppSid !== undefined ? { preflightTwimlAppSid: creds.preflightTwimlAppSid } : {}),
  };
  await sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(body) }));
}
