/**
 * The clients the ops commands (`twilio:setup`, `doctor`) talk through, wired in one place.
 *
 * AWS: SDK v3 clients with the SDK's own configuration chain, so the standard variables apply as they do to any
 * AWS tool: AWS_REGION/AWS_PROFILE, credentials, and the endpoint variables AWS_ENDPOINT_URL and
 * AWS_ENDPOINT_URL_<SERVICE> (SECRETS_MANAGER, CLOUDFORMATION, DYNAMODB, SNS, CLOUDWATCH) that point a service at a
 * stand-in.
 * Twilio: the REST client, sent to TWILIO_API_BASE_URL instead of Twilio when that is set (mocks and tests).
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoLineDirectory } from '../../lambda/adapters/dynamo-line-directory';
import type { StackOutputs } from '../../lambda/core/settings';
import { twilioApiBaseUrl } from '../config/twilio-api';
import { twilioClientFactory, type TwilioClientFactory } from './twilio-client';

export interface OpsClients {
  cfn: CloudFormationClient;
  secrets: SecretsManagerClient;
  /** the alarm topic's subscriptions (doctor) */
  sns: SNSClient;
  /** the stack's alarms (doctor) */
  cloudwatch: CloudWatchClient;
  twilio: TwilioClientFactory;
  /** The deployed registry of lines named by the stack outputs. */
  registry: (outputs: StackOutputs) => DynamoLineDirectory;
  /** TWILIO_API_BASE_URL when set. */
  twilioApiBaseUrl?: string;
  /** The region the clients use (`--region`, else the SDK's chain); undefined when none is configured. */
  region(): Promise<string | undefined>;
  destroy(): void;
}

export function opsClients(opts: { region?: string }, env: NodeJS.ProcessEnv = process.env): OpsClients {
  const config = opts.region ? { region: opts.region } : {};
  const cfn = new CloudFormationClient(config);
  const secrets = new SecretsManagerClient(config);
  const dynamo = new DynamoDBClient(config);
  const sns = new SNSClient(config);
  const cloudwatch = new CloudWatchClient(config);
  const apiBaseUrl = twilioApiBaseUrl(env);
  return {
    cfn,
    secrets,
    sns,
    cloudwatch,
    twilio: twilioClientFactory({ apiBaseUrl }),
    registry: (outputs) => new DynamoLineDirectory({ client: dynamo, table: outputs.DevicesTableName }),
    twilioApiBaseUrl: apiBaseUrl,
    region: async () => {
      try {
        return await cfn.config.region();
      } catch {
        return undefined;
      }
    },
    destroy: () => {
      cfn.destroy();
      secrets.destroy();
      dynamo.destroy();
      sns.destroy();
      cloudwatch.destroy();
    },
  };
}
