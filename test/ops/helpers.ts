/** Shared fixtures for the ops tests: mocked CloudFormation / Secrets Manager and a recording IO. */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { StackOutputs } from '../../lib/ops/aws';

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
  };
}

const mockCfn = (c: CloudFormationClient) => mockClient(c);
const mockSm = (c: SecretsManagerClient) => mockClient(c);

export interface AwsFixture {
  cfn: CloudFormationClient;
  secrets: SecretsManagerClient;
  cfnMock: ReturnType<typeof mockCfn>;
  smMock: ReturnType<typeof mockSm>;
  /** the secret's current value; undefined = the secret does not exist */
  secret: { value: string | undefined };
  puts(): string[];
}

export function awsFixture(outputs: Partial<StackOutputs>, initialSecret: string | undefined = '{}'): AwsFixture {
  const cfn = new CloudFormationClient({ region: 'us-east-1' });
  const secrets = new SecretsManagerClient({ region: 'us-east-1' });
  const cfnMock = mockCfn(cfn);
  const smMock = mockSm(secrets);
  const secret = { value: initialSecret };
  cfnMock.on(DescribeStacksCommand, { StackName: STACK }).resolves({
    Stacks: [
      {
        StackName: STACK,
        CreationTime: new Date(),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  smMock.on(GetSecretValueCommand).callsFake(async (input: { SecretId: string }) => {
    if (input.SecretId !== SECRET_NAME || secret.value === undefined) {
      throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
    }
    return { Name: SECRET_NAME, SecretString: secret.value };
  });
  smMock.on(PutSecretValueCommand).callsFake(async (input: { SecretId: string; SecretString: string }) => {
    if (input.SecretId !== SECRET_NAME || secret.value === undefined) {
      throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
    }
    secret.value = input.SecretString;
    return { Name: SECRET_NAME, VersionId: 'v' };
  });
  return {
    cfn,
    secrets,
    cfnMock,
    smMock,
    secret,
    puts: () => smMock.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input.SecretString ?? ''),
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

/** An in-process dynalite server on 127.0.0.1 (the real DynamoDB protocol) with fresh registry tables. */
export { startDynalite } from '../lambda/helpers';
