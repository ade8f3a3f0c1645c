/**
 * Shared fixtures for the ops tests: the AWS side of a deployment played by the HTTP stand-in
 * (test/support/aws-stand-in.ts: CloudFormation, Secrets Manager and DynamoDB as the real services answer,
 * reached by the real SDK clients) and a recording IO. Shared data comes from `test/support/fixtures.ts`, the
 * DynamoDB registry from `test/support/dynalite.ts`.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
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

export interface AwsFixture {
  standIn: AwsStandIn;
  cfn: CloudFormationClient;
  secrets: SecretsManagerClient;
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
 */
export async function awsFixture(
  outputs: Partial<StackOutputs>,
  secret: 'first-run' | 'missing' | { value: string } = 'first-run',
): Promise<AwsFixture> {
  const standIn = await AwsStandIn.start();
  standIn.putStack(STACK, outputs);
  if (secret !== 'missing') standIn.createSecret(SECRET_NAME, secret === 'first-run' ? undefined : secret.value);
  const config = {
    endpoint: standIn.url,
    region: standIn.region,
    credentials: { accessKeyId: standIn.accessKeyId, secretAccessKey: standIn.secretAccessKey },
  };
  const cfn = new CloudFormationClient(config);
  const secrets = new SecretsManagerClient(config);
  let ownPuts = 0;
  return {
    standIn,
    cfn,
    secrets,
    secretValue: () => standIn.secretValue(SECRET_NAME),
    putSecret: async (value) => {
      await secrets.send(new PutSecretValueCommand({ SecretId: SECRET_NAME, SecretString: value }));
      ownPuts += 1;
    },
    puts: () => standIn.requests.filter((r) => r.service === 'secretsmanager' && r.action === 'PutSecretValue' && r.status === 200).length - ownPuts,
    close: async () => {
      cfn.destroy();
      secrets.destroy();
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
