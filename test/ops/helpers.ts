/**
 * Shared fixtures for the ops tests: the AWS side of a deployment played by the HTTP stand-in
 * (test/support/aws-stand-in.ts: CloudFormation, Secrets Manager, DynamoDB, SNS and CloudWatch as the real services
 * answer, reached by the real SDK clients) and a recording IO. Shared data comes from `test/support/fixtures.ts`,
 * the DynamoDB registry from `test/support/dynalite.ts`.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import type { StackOutputs } from '../../lambda/core/settings';
import { AwsStandIn } from '../support/aws-stand-in';

export const STACK = 'TwilioSoftphoneStack';
export const SECRET_NAME = 'TwilioSoftphoneStack-TwilioSecret-abc123';

export function outputsFor(apiBase: string, softphoneUrl = 'https://d111111abcdef8.cloudfront.net/'): StackOutputs {
  return {
    ApiUrl: apiBase,
    TokenUrl: `${apiBase}/twilio/retrieve_capability_token`,
    IncomingCallWebhookUrl: `${apiBase}/twilio/retrieve_twiml/call_incoming`,
    OutgoingCallWebhookUrl: `${apiBase}/twilio/retrieve_twiml/call_outgoing`,
    SoftphoneUrl: softphoneUrl,
    DevicesTableName: 'TwilioSoftphoneStack-Devices',
    AttemptsTableName: 'TwilioSoftphoneStack-Attempts',
    TwilioSecretName: SECRET_NAME,
    CallsTableName: 'TwilioSoftphoneStack-Calls',
  };
}

/** Who confirmed the alarm topic's e-mail subscription in a deployment with operations. */
export const ALARM_EMAIL = 'ops@example.com';

/**
 * The alarms the operations construct makes (lib/constructs/operations.ts: `<stack>-<kebab id>`, each sending its
 * ALARM and OK to the alarm topic), one per alarm id of a stack with the current routes and tables.
 */
export const ALARM_IDS = [
  'webhook-5xx',
  'webhook-4xx',
  'webhook-latency-p99',
  'webhook-function-errors',
  'webhook-function-throttles',
  'softphone-function-errors',
  'softphone-function-throttles',
  'lines-table-throttles',
  'attempts-table-throttles',
  'calls-table-throttles',
  'signature-rejected',
  'sign-in-lockouts',
  'toll-fraud-refusals',
  'dependency-failures',
  'twilio-errors',
] as const;

/**
 * The operations construct as `cdk deploy` leaves it, in the stand-in: an alarm topic (`<name>`), its e-mail
 * subscriptions (confirmed or pending), and `alarms` alarms notifying it (default: one per ALARM_IDS). Returns the
 * outputs the stack gets for it (AlarmTopicArn, DashboardName).
 */
export function deployOperations(
  standIn: AwsStandIn,
  opts: { name?: string; stackName?: string; subscribers?: { email: string; confirmed: boolean }[]; alarms?: number } = {},
): { AlarmTopicArn: string; DashboardName: string } {
  const stackName = opts.stackName ?? STACK;
  const topic = standIn.createTopic(opts.name ?? `${stackName}-OperationsAlarmTopic1A2B3C4D-x9Y8z7W6v5U4`);
  for (const s of opts.subscribers ?? [{ email: ALARM_EMAIL, confirmed: true }]) standIn.subscribe(topic, s.email, { confirmed: s.confirmed });
  const count = opts.alarms ?? ALARM_IDS.length;
  for (let i = 0; i < count; i++) {
    const id = ALARM_IDS[i] ?? `extra-${i}`;
    // another topic's alarms (a test's second deployment) are named apart: alarm names are unique in a region
    standIn.putAlarm({ name: `${stackName}-${id}${opts.name ? `-${opts.name}` : ''}`, alarmActions: [topic], okActions: [topic] });
  }
  return { AlarmTopicArn: topic, DashboardName: stackName };
}

export interface AwsFixture {
  standIn: AwsStandIn;
  cfn: CloudFormationClient;
  secrets: SecretsManagerClient;
  sns: SNSClient;
  cloudwatch: CloudWatchClient;
  /** The stack's alarm topic (undefined when deployed without operations). */
  alarmTopicArn?: string;
  /** The secret's AWSCURRENT value; undefined while it has none. */
  secretValue(): string | undefined;
  /** Puts a value as its owner would (PutSecretValue through the SDK); not counted by `puts()`. */
  putSecret(value: string): Promise<void>;
  /** PutSecretValue calls the code under test made that succeeded. */
  puts(): number;
  close(): Promise<void>;
}

/**
 * A deployed stack with these outputs. The secret starts as a fresh `cdk deploy` leaves it: existing, with no
 * value (`'first-run'`, the default); or with a value; or `'missing'` (a twilioSecretName that does not exist).
 * The operations construct is deployed too (`deployOperations`: topic, a confirmed subscription, the alarms, and
 * their outputs) unless `operations: false` (a stack of an earlier release).
 */
export async function awsFixture(
  outputs: Partial<StackOutputs>,
  secret: 'first-run' | 'missing' | { value: string } = 'first-run',
  opts: { operations?: boolean } = {},
): Promise<AwsFixture> {
  const standIn = await AwsStandIn.start();
  const operations = opts.operations === false ? undefined : deployOperations(standIn);
  standIn.putStack(STACK, { ...outputs, ...operations });
  if (secret !== 'missing') standIn.createSecret(SECRET_NAME, secret === 'first-run' ? undefined : secret.value);
  const config = {
    endpoint: standIn.url,
    region: standIn.region,
    credentials: { accessKeyId: standIn.accessKeyId, secretAccessKey: standIn.secretAccessKey },
  };
  const cfn = new CloudFormationClient(config);
  const secrets = new SecretsManagerClient(config);
  const sns = new SNSClient(config);
  const cloudwatch = new CloudWatchClient(config);
  let ownPuts = 0;
  return {
    standIn,
    cfn,
    secrets,
    sns,
    cloudwatch,
    alarmTopicArn: operations?.AlarmTopicArn,
    secretValue: () => standIn.secretValue(SECRET_NAME),
    putSecret: async (value) => {
      await secrets.send(new PutSecretValueCommand({ SecretId: SECRET_NAME, SecretString: value }));
      ownPuts += 1;
    },
    puts: () => standIn.requests.filter((r) => r.service === 'secretsmanager' && r.action === 'PutSecretValue' && r.status === 200).length - ownPuts,
    close: async () => {
      cfn.destroy();
      secrets.destroy();
      sns.destroy();
      cloudwatch.destroy();
      await standIn.stop();
    },
  };
}

export class RecordingIO {
  lines: string[] = [];
  answers: boolean[] = [];
  questions: string[] = [];
  print = (line: string): void => {
    this.lines.push(line);
  };
  confirm = async (question: string): Promise<boolean> => {
    this.questions.push(question);
    return this.answers.shift() ?? false;
  };
  get text(): string {
    return this.lines.join('\n');
  }
}
