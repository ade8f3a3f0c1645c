/**
 * The AWS stand-in (test/support/aws-stand-in.ts), driven with the real AWS SDK v3 clients: every answer the
 * ops commands can meet arrives as the same exception class / output shape as from AWS, and the standard
 * endpoint variables route a child process's clients to it.
 */
import { CloudFormationClient, CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  CloudWatchServiceException,
  DescribeAlarmsCommand,
  InvalidNextToken,
  InvalidParameterCombinationException,
  paginateDescribeAlarms,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, DynamoDBServiceException, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import {
  AuthorizationErrorException,
  InvalidParameterException,
  ListSubscriptionsByTopicCommand,
  NotFoundException,
  paginateListSubscriptionsByTopic,
  SNSClient,
  SNSServiceException,
  type Subscription,
} from '@aws-sdk/client-sns';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { AwsStandIn } from './aws-stand-in';

let standIn: AwsStandIn;
const clients: { destroy(): void }[] = [];

interface ClientOpts {
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
}

function config(o: ClientOpts = {}) {
  return {
    endpoint: standIn.url,
    region: o.region ?? standIn.region,
    credentials: { accessKeyId: o.accessKeyId ?? standIn.accessKeyId, secretAccessKey: o.secretAccessKey ?? standIn.secretAccessKey },
    maxAttempts: 3,
  };
}
function sm(o?: ClientOpts): SecretsManagerClient {
  const c = new SecretsManagerClient(config(o));
  clients.push(c);
  return c;
}
function cfn(o?: ClientOpts): CloudFormationClient {
  const c = new CloudFormationClient(config(o));
  clients.push(c);
  return c;
}
function ddb(o?: ClientOpts): DynamoDBClient {
  const c = new DynamoDBClient(config(o));
  clients.push(c);
  return c;
}
function sns(o?: ClientOpts): SNSClient {
  const c = new SNSClient(config(o));
  clients.push(c);
  return c;
}
function cw(o?: ClientOpts): CloudWatchClient {
  const c = new CloudWatchClient(config(o));
  clients.push(c);
  return c;
}

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; $fault?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}`;

beforeAll(async () => {
  standIn = await AwsStandIn.start();
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await standIn?.stop();
});

describe('start / env', () => {
  it('listens on 127.0.0.1 with the default region and a real-looking key pair', () => {
    expect(standIn.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(standIn.region).toBe('ap-northeast-1');
    expect(standIn.accessKeyId).toMatch(/^AKIA[0-9A-Z]{16}$/);
    expect(standIn.dynamoEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(standIn.dynamoEndpoint).not.toBe(standIn.url);
  });

  it('env() routes the SDK to the stand-in with its credentials; childEnv() drops every other AWS_* variable', () => {
    expect(standIn.env()).toMatchObject({
      AWS_ENDPOINT_URL: standIn.url,
      AWS_REGION: 'ap-northeast-1',
      AWS_ACCESS_KEY_ID: standIn.accessKeyId,
      AWS_SECRET_ACCESS_KEY: standIn.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    const env = standIn.childEnv(
      { EXTRA: '1' },
      { PATH: '/bin', AWS_PROFILE: 'prod', AWS_SESSION_TOKEN: 'x', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'https://real', aws_region: 'us-east-1' },
    );
    expect(env).toEqual({ PATH: '/bin', EXTRA: '1', ...standIn.env() });
  });
});

describe('CloudFormation DescribeStacks (awsQuery)', () => {
  it('answers the stack with its outputs, status and ids', async () => {
    const name = unique('Stack');
    const id = standIn.putStack(name, { ApiUrl: 'https://x.example/prod', TwilioSecretName: 'S<&>', Described: { value: 'v', description: 'd' } });
    const { Stacks } = await cfn().send(new DescribeStacksCommand({ StackName: name }));
    expect(Stacks).toHaveLength(1);
    const stack = Stacks![0];
    expect(stack.StackName).toBe(name);
    expect(stack.StackId).toBe(id);
    expect(stack.StackId).toMatch(new RegExp(`^arn:aws:cloudformation:ap-northeast-1:\\d{12}:stack/${name}/[0-9a-f-]{36}$`));
    expect(stack.StackStatus).toBe('CREATE_COMPLETE');
    expect(stack.CreationTime).toBeInstanceOf(Date);
    expect(stack.Outputs).toEqual([
      { OutputKey: 'ApiUrl', OutputValue: 'https://x.example/prod' },
      { OutputKey: 'TwilioSecretName', OutputValue: 'S<&>' },
      { OutputKey: 'Described', OutputValue: 'v', Description: 'd' },
    ]);
    // found by its stack ID too
    const byId = await cfn().send(new DescribeStacksCommand({ StackName: id }));
    expect(byId.Stacks?.[0].StackName).toBe(name);
    expect(standIn.requests.at(-1)).toEqual({ service: 'cloudformation', action: 'DescribeStacks', status: 200 });
  });

  it('keeps a single output a list, and reports the status it was given', async () => {
    const name = unique('Stack');
    standIn.putStack(name, { Only: 'one' }, 'UPDATE_ROLLBACK_COMPLETE');
    const { Stacks } = await cfn().send(new DescribeStacksCommand({ StackName: name }));
    expect(Stacks?.[0].Outputs).toEqual([{ OutputKey: 'Only', OutputValue: 'one' }]);
    expect(Stacks?.[0].StackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
  });

  it('an unknown stack is a ValidationError "Stack with id … does not exist" (HTTP 400)', async () => {
    const err = await rejection(cfn().send(new DescribeStacksCommand({ StackName: 'NoSuchStack' })));
    expect(err).toBeInstanceOf(CloudFormationServiceException);
    expect(err.name).toBe('ValidationError');
    expect(err.message).toBe('Stack with id NoSuchStack does not exist');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.$fault).toBe('client');
    expect(standIn.requests.at(-1)).toEqual({ service: 'cloudformation', action: 'DescribeStacks', status: 400 });
  });

  it('a deleted stack is found by its stack ID only', async () => {
    const name = unique('Stack');
    const id = standIn.putStack(name, {}, 'DELETE_COMPLETE');
    expect((await rejection(cfn().send(new DescribeStacksCommand({ StackName: name })))).name).toBe('ValidationError');
    const { Stacks } = await cfn().send(new DescribeStacksCommand({ StackName: id }));
    expect(Stacks?.[0].StackStatus).toBe('DELETE_COMPLETE');
  });
});

describe('Secrets Manager (awsJson1_1)', () => {
  it('a missing secret is ResourceNotFoundException "can\'t find the specified secret" for Get, Describe and Put', async () => {
    const client = sm();
    for (const command of [
      new GetSecretValueCommand({ SecretId: 'no-such-secret' }),
      new DescribeSecretCommand({ SecretId: 'no-such-secret' }),
      new PutSecretValueCommand({ SecretId: 'no-such-secret', SecretString: '{}' }),
    ]) {
      const err = await rejection(client.send(command as GetSecretValueCommand));
      expect(err).toBeInstanceOf(ResourceNotFoundException);
      expect(err.message).toBe("Secrets Manager can't find the specified secret.");
      expect(err.$metadata?.httpStatusCode).toBe(400);
    }
  });

  it('first-run state: the secret exists without a version; Get says so, Describe has no stages, Put creates the first version', async () => {
    const name = unique('TwilioSecret');
    const arn = standIn.createSecret(name);
    expect(arn).toMatch(new RegExp(`^arn:aws:secretsmanager:ap-northeast-1:\\d{12}:secret:${name}-[A-Za-z0-9]{6}$`));
    const client = sm();

    const err = await rejection(client.send(new GetSecretValueCommand({ SecretId: name })));
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err.message).toBe("Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");

    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described).toMatchObject({ ARN: arn, Name: name });
    expect(described.CreatedDate).toBeInstanceOf(Date);
    expect(described.VersionIdsToStages).toBeUndefined();
    expect(described.DeletedDate).toBeUndefined();

    const put = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: '{"a":1}' }));
    expect(put).toMatchObject({ ARN: arn, Name: name, VersionStages: ['AWSCURRENT'] });
    expect(put.VersionId).toMatch(/^[0-9a-f-]{36}$/); // the SDK's auto-generated ClientRequestToken

    const got = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    expect(got).toMatchObject({ ARN: arn, Name: name, VersionId: put.VersionId, SecretString: '{"a":1}', VersionStages: ['AWSCURRENT'] });
    expect(got.CreatedDate).toBeInstanceOf(Date);
    expect(standIn.secretValue(name)).toBe('{"a":1}');
    expect(standIn.secretVersions(arn)).toBe(1);
  });

  it('finds a secret by name, full ARN and partial ARN', async () => {
    const name = unique('Named');
    const arn = standIn.createSecret(name, 'v0');
    const client = sm();
    for (const id of [name, arn, arn.slice(0, -7)]) {
      expect((await client.send(new GetSecretValueCommand({ SecretId: id }))).SecretString).toBe('v0');
    }
  });

  it('put moves AWSCURRENT to the new version and AWSPREVIOUS to the old one; the one before loses its labels', async () => {
    const name = unique('Rotating');
    standIn.createSecret(name, 'v1');
    const client = sm();
    const v1 = (await client.send(new GetSecretValueCommand({ SecretId: name }))).VersionId!;
    const v2 = (await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }))).VersionId!;
    let described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
    expect((await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('v1');

    const v3 = (await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v3' }))).VersionId!;
    described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual({ [v2]: ['AWSPREVIOUS'], [v3]: ['AWSCURRENT'] });
    expect(standIn.secretValue(name)).toBe('v3');
    expect(standIn.secretVersions(name)).toBe(3);
    expect((await client.send(new GetSecretValueCommand({ SecretId: name, VersionId: v1 }))).SecretString).toBe('v1');
  });

  it('ClientRequestToken: same token and value is a no-op; same token with another value is ResourceExistsException', async () => {
    const name = unique('Idempotent');
    standIn.createSecret(name);
    const client = sm();
    const token = randomUUID();
    const first = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'same', ClientRequestToken: token }));
    const again = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'same', ClientRequestToken: token }));
    expect(first.VersionId).toBe(token);
    expect(again.VersionId).toBe(token);
    expect(again.VersionStages).toEqual(['AWSCURRENT']);
    expect(standIn.secretVersions(name)).toBe(1);

    const err = await rejection(client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'other', ClientRequestToken: token })));
    expect(err).toBeInstanceOf(ResourceExistsException);
    expect(standIn.secretValue(name)).toBe('same');
  });

  it('a secret scheduled for deletion: Get and Put are InvalidRequestException, Describe shows DeletedDate', async () => {
    const name = unique('Deleted');
    standIn.createSecret(name, 'old');
    standIn.deleteSecret(name);
    const client = sm();
    for (const command of [new GetSecretValueCommand({ SecretId: name }), new PutSecretValueCommand({ SecretId: name, SecretString: 'new' })]) {
      const err = await rejection(client.send(command as GetSecretValueCommand));
      expect(err).toBeInstanceOf(InvalidRequestException);
      expect(err.message).toBe("You can't perform this operation on the secret because it was marked for deletion.");
    }
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.DeletedDate).toBeInstanceOf(Date);
    expect(standIn.secretValue(name)).toBe('old');
  });

  it('the helpers refuse an unknown secret and a duplicate name', () => {
    expect(() => standIn.secretValue('nope')).toThrow(/no secret nope/);
    const name = unique('Dup');
    standIn.createSecret(name);
    expect(() => standIn.createSecret(name)).toThrow(/already exists/);
  });
});

describe('DynamoDB (proxied to dynalite)', () => {
  it('CreateTable through createRegistryTables, then PutItem / GetItem through the stand-in', async () => {
    await standIn.createRegistryTables('Devices', 'Attempts');
    const client = ddb();
    const key = { pk: { S: 'LINE#+15005550006' }, sk: { S: 'MEMBER#alice' } };
    await client.send(new PutItemCommand({ TableName: 'Devices', Item: { ...key, clientName: { S: 'alice' } } }));
    const { Item } = await client.send(new GetItemCommand({ TableName: 'Devices', Key: key }));
    expect(Item).toEqual({ ...key, clientName: { S: 'alice' } });
    expect(standIn.requests.slice(-2)).toEqual([
      { service: 'dynamodb', action: 'PutItem', status: 200 },
      { service: 'dynamodb', action: 'GetItem', status: 200 },
    ]);
  });

  it("dynalite's own errors come back unchanged (ResourceNotFoundException, HTTP 400)", async () => {
    const err = await rejection(ddb().send(new GetItemCommand({ TableName: 'NoSuchTable', Key: { k: { S: 'x' } } })));
    expect(err).toBeInstanceOf(DynamoDBServiceException);
    expect(err.name).toBe('ResourceNotFoundException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(standIn.requests.at(-1)).toEqual({ service: 'dynamodb', action: 'GetItem', status: 400 });
  });
});

describe('SNS ListSubscriptionsByTopic (awsQuery, Version 2010-03-31)', () => {
  it('lists a topic\'s subscriptions: confirmed ones by their ARN, pending ones as "PendingConfirmation"', async () => {
    const topic = standIn.createTopic(unique('Alarms'));
    expect(topic).toMatch(/^arn:aws:sns:ap-northeast-1:\d{12}:Alarms-\d+$/);
    const confirmed = standIn.subscribe(topic, 'ops@example.com', { confirmed: true });
    standIn.subscribe(topic, 'late@example.com');
    const { Subscriptions, NextToken } = await sns().send(new ListSubscriptionsByTopicCommand({ TopicArn: topic }));
    expect(NextToken).toBeUndefined();
    expect(Subscriptions).toEqual([
      { TopicArn: topic, Protocol: 'email', SubscriptionArn: confirmed, Owner: '123456789012', Endpoint: 'ops@example.com' },
      { TopicArn: topic, Protocol: 'email', SubscriptionArn: 'PendingConfirmation', Owner: '123456789012', Endpoint: 'late@example.com' },
    ]);
    expect(confirmed).toMatch(new RegExp(`^${topic}:[0-9a-f-]{36}$`));
    expect(standIn.requests.at(-1)).toEqual({ service: 'sns', action: 'ListSubscriptionsByTopic', status: 200 });

    standIn.confirmSubscription(topic, 'late@example.com');
    const again = await sns().send(new ListSubscriptionsByTopicCommand({ TopicArn: topic }));
    expect(again.Subscriptions?.map((x) => x.SubscriptionArn?.startsWith(`${topic}:`))).toEqual([true, true]);
  });

  it('a topic without subscriptions answers an empty list', async () => {
    const topic = standIn.createTopic(unique('Empty'));
    const { Subscriptions } = await sns().send(new ListSubscriptionsByTopicCommand({ TopicArn: topic }));
    expect(Subscriptions ?? []).toEqual([]);
  });

  it('pages by 100 with a NextToken, which the SDK paginator follows; a token is refused for another topic', async () => {
    const topic = standIn.createTopic(unique('Big'));
    for (let i = 0; i < 101; i++) standIn.subscribe(topic, `p${i}@example.com`, { confirmed: i % 2 === 0 });
    const first = await sns().send(new ListSubscriptionsByTopicCommand({ TopicArn: topic }));
    expect(first.Subscriptions).toHaveLength(100);
    expect(first.NextToken).toEqual(expect.any(String));
    const second = await sns().send(new ListSubscriptionsByTopicCommand({ TopicArn: topic, NextToken: first.NextToken }));
    expect(second.Subscriptions?.map((x) => x.Endpoint)).toEqual(['p100@example.com']);
    expect(second.NextToken).toBeUndefined();

    const all: Subscription[] = [];
    for await (const page of paginateListSubscriptionsByTopic({ client: sns() }, { TopicArn: topic })) all.push(...(page.Subscriptions ?? []));
    expect(all.map((x) => x.Endpoint)).toEqual(Array.from({ length: 101 }, (_, i) => `p${i}@example.com`));

    const other = standIn.createTopic(unique('Other'));
    const err = await rejection(sns().send(new ListSubscriptionsByTopicCommand({ TopicArn: other, NextToken: first.NextToken })));
    expect(err).toBeInstanceOf(InvalidParameterException);
    expect(err.message).toBe('Invalid parameter: NextToken');
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });

  it('an unknown topic is NotFound (NotFoundException, HTTP 404) "Topic does not exist"; a malformed ARN is InvalidParameter', async () => {
    const gone = standIn.createTopic(unique('Gone'));
    standIn.deleteTopic(gone);
    const err = await rejection(sns().send(new ListSubscriptionsByTopicCommand({ TopicArn: gone })));
    expect(err).toBeInstanceOf(NotFoundException);
    expect(err.name).toBe('NotFoundException');
    expect(err.message).toBe('Topic does not exist');
    expect(err.$metadata?.httpStatusCode).toBe(404);
    expect(err.$fault).toBe('client');
    expect(standIn.requests.at(-1)).toEqual({ service: 'sns', action: 'ListSubscriptionsByTopic', status: 404 });

    const bad = await rejection(sns().send(new ListSubscriptionsByTopicCommand({ TopicArn: 'not-an-arn' })));
    expect(bad).toBeInstanceOf(InvalidParameterException);
    expect(bad.message).toBe('Invalid parameter: TopicArn');
  });

  it('fail() injects an SNS error (AuthorizationError → AuthorizationErrorException, 403); an unknown action is InvalidAction', async () => {
    const topic = standIn.createTopic(unique('Denied'));
    standIn.fail('sns', 'ListSubscriptionsByTopic', {
      code: 'AuthorizationError',
      message: 'User: arn:aws:iam::123456789012:user/x is not authorized to perform: SNS:ListSubscriptionsByTopic',
      status: 403,
    });
    const err = await rejection(sns().send(new ListSubscriptionsByTopicCommand({ TopicArn: topic })));
    expect(err).toBeInstanceOf(AuthorizationErrorException);
    expect(err.$metadata?.httpStatusCode).toBe(403);

    const res = await fetch(standIn.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'Action=Publish&Version=2010-03-31',
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('<Code>InvalidAction</Code>');
    expect(text).toContain('xmlns="http://sns.amazonaws.com/doc/2010-03-31/"');
    expect(standIn.requests.at(-1)).toEqual({ service: 'sns', action: 'Publish', status: 400 });
  });
});

describe('CloudWatch DescribeAlarms (awsJson1_0, query compatible)', () => {
  let topic: string;
  let prefix: string;
  beforeAll(() => {
    prefix = unique('Stack');
    topic = standIn.createTopic(`${prefix}-AlarmTopic`);
    standIn.putAlarm({ name: `${prefix}-SignatureRejected`, alarmActions: [topic], okActions: [topic], description: 'forged webhooks' });
    standIn.putAlarm({ name: `${prefix}-TollFraud`, alarmActions: [topic], state: 'ALARM', stateReason: 'Threshold Crossed: 1 datapoint [3.0]' });
    standIn.putAlarm({ name: `${prefix}-Composite`, type: 'CompositeAlarm', alarmActions: [topic] });
    standIn.putAlarm({ name: `${prefix}-Unrelated`, alarmActions: ['arn:aws:sns:ap-northeast-1:123456789012:someone-else'] });
  });

  it('ActionPrefix finds the alarms that notify a topic; without AlarmTypes only metric alarms, with them composite ones too', async () => {
    const metricOnly = await cw().send(new DescribeAlarmsCommand({ ActionPrefix: topic }));
    expect(metricOnly.MetricAlarms?.map((a) => a.AlarmName)).toEqual([`${prefix}-SignatureRejected`, `${prefix}-TollFraud`]);
    expect(metricOnly.CompositeAlarms ?? []).toEqual([]);
    expect(metricOnly.NextToken).toBeUndefined();
    const alarm = metricOnly.MetricAlarms![0];
    expect(alarm).toMatchObject({
      AlarmArn: `arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:${prefix}-SignatureRejected`,
      AlarmDescription: 'forged webhooks',
      AlarmActions: [topic],
      OKActions: [topic],
      StateValue: 'OK',
      MetricName: 'SignatureRejected',
      Namespace: 'TwilioSoftphone',
    });
    expect(alarm.StateUpdatedTimestamp).toBeInstanceOf(Date);
    expect(metricOnly.MetricAlarms![1]).toMatchObject({ StateValue: 'ALARM', StateReason: 'Threshold Crossed: 1 datapoint [3.0]' });

    const both = await cw().send(new DescribeAlarmsCommand({ ActionPrefix: topic, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    expect(both.MetricAlarms).toHaveLength(2);
    expect(both.CompositeAlarms?.map((a) => [a.AlarmName, a.AlarmRule])).toEqual([[`${prefix}-Composite`, `ALARM("${prefix}-Composite-child")`]]);
    expect(standIn.requests.at(-1)).toEqual({ service: 'cloudwatch', action: 'DescribeAlarms', status: 200 });
  });

  it('filters by StateValue, AlarmNames and AlarmNamePrefix; AlarmNames with AlarmNamePrefix is InvalidParameterCombination', async () => {
    const inAlarm = await cw().send(new DescribeAlarmsCommand({ ActionPrefix: topic, StateValue: 'ALARM' }));
    expect(inAlarm.MetricAlarms?.map((a) => a.AlarmName)).toEqual([`${prefix}-TollFraud`]);
    const named = await cw().send(new DescribeAlarmsCommand({ AlarmNames: [`${prefix}-Unrelated`] }));
    expect(named.MetricAlarms?.map((a) => a.AlarmName)).toEqual([`${prefix}-Unrelated`]);
    const prefixed = await cw().send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${prefix}-S` }));
    expect(prefixed.MetricAlarms?.map((a) => a.AlarmName)).toEqual([`${prefix}-SignatureRejected`]);
    const err = await rejection(cw().send(new DescribeAlarmsCommand({ AlarmNames: ['a'], AlarmNamePrefix: 'a' })));
    // the SDK names a modelled error by its shape, and keeps the awsQuery code in `Code`
    expect(err).toBeInstanceOf(InvalidParameterCombinationException);
    expect((err as { Code?: string }).Code).toBe('InvalidParameterCombination');
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });

  it('pages by MaxRecords with a NextToken the SDK paginator follows; a foreign or garbled token is InvalidNextToken', async () => {
    const many = unique('Many');
    const manyTopic = standIn.createTopic(many);
    for (let i = 0; i < 7; i++) standIn.putAlarm({ name: `${many}-${i}`, alarmActions: [manyTopic] });
    const first = await cw().send(new DescribeAlarmsCommand({ ActionPrefix: manyTopic, MaxRecords: 3 }));
    expect(first.MetricAlarms?.map((a) => a.AlarmName)).toEqual([`${many}-0`, `${many}-1`, `${many}-2`]);
    expect(first.NextToken).toEqual(expect.any(String));

    const all: MetricAlarm[] = [];
    for await (const page of paginateDescribeAlarms({ client: cw(), pageSize: 3 }, { ActionPrefix: manyTopic }))
      all.push(...(page.MetricAlarms ?? []));
    expect(all.map((a) => a.AlarmName)).toEqual(Array.from({ length: 7 }, (_, i) => `${many}-${i}`));

    for (const NextToken of [first.NextToken, 'garbled']) {
      const err = await rejection(cw().send(new DescribeAlarmsCommand({ ActionPrefix: topic, NextToken })));
      expect(err).toBeInstanceOf(InvalidNextToken);
      expect(err.message).toBe('The next token specified is invalid.');
      expect(err.$metadata?.httpStatusCode).toBe(400);
    }
  });

  it('MaxRecords outside 1–100 is a ValidationError', async () => {
    for (const MaxRecords of [0, 101]) {
      const err = await rejection(cw().send(new DescribeAlarmsCommand({ MaxRecords })));
      expect(err).toBeInstanceOf(CloudWatchServiceException);
      expect([err.name, (err as { Code?: string }).Code]).toEqual(['ValidationException', 'ValidationError']);
      expect(err.message).toMatch(/at 'maxRecords' failed to satisfy constraint/);
    }
  });

  it('fail() injects a CloudWatch error by its awsQuery code; an unknown operation is UnknownOperationException', async () => {
    standIn.fail('cloudwatch', 'DescribeAlarms', {
      code: 'AccessDenied',
      message: 'User: arn:aws:iam::123456789012:user/x is not authorized to perform: cloudwatch:DescribeAlarms',
      status: 403,
    });
    const err = await rejection(cw().send(new DescribeAlarmsCommand({ ActionPrefix: topic })));
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata?.httpStatusCode).toBe(403);

    const res = await fetch(standIn.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'GraniteServiceVersion20100801.DeleteAlarms' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-query-error')).toBe('UnknownOperationException;Sender');
    expect(await res.json()).toEqual({ __type: 'com.amazon.coral.service#UnknownOperationException' });
  });
});

describe('authentication (SigV4)', () => {
  it('an unknown access key id: UnrecognizedClientException (400) / InvalidClientTokenId (403)', async () => {
    const wrong = { accessKeyId: 'AKIAWRONGWRONGWRONG0' };
    for (const err of [
      await rejection(sm(wrong).send(new GetSecretValueCommand({ SecretId: 'x' }))),
      await rejection(ddb(wrong).send(new GetItemCommand({ TableName: 'Devices', Key: { phoneNumber: { S: 'x' } } }))),
    ]) {
      expect(err.name).toBe('UnrecognizedClientException');
      expect(err.message).toBe('The security token included in the request is invalid.');
      expect(err.$metadata?.httpStatusCode).toBe(400);
    }
    const err = await rejection(cfn(wrong).send(new DescribeStacksCommand({ StackName: 'x' })));
    expect(err.name).toBe('InvalidClientTokenId');
    expect(err.message).toBe('The security token included in the request is invalid.');
    expect(err.$metadata?.httpStatusCode).toBe(403);
    // the awsQuery codes for SNS, and for CloudWatch in its query-compatible header
    const snsErr = await rejection(sns(wrong).send(new ListSubscriptionsByTopicCommand({ TopicArn: 'arn:aws:sns:ap-northeast-1:123456789012:t' })));
    expect(snsErr).toBeInstanceOf(SNSServiceException);
    expect([snsErr.name, snsErr.$metadata?.httpStatusCode]).toEqual(['InvalidClientTokenId', 403]);
    const cwErr = await rejection(cw(wrong).send(new DescribeAlarmsCommand({})));
    expect(cwErr).toBeInstanceOf(CloudWatchServiceException);
    expect([cwErr.name, cwErr.$metadata?.httpStatusCode]).toEqual(['InvalidClientTokenId', 403]);
  });

  it('the right key id with a wrong secret key fails the signature check (the signature is verified)', async () => {
    const wrong = { secretAccessKey: 'x'.repeat(40) };
    const err = await rejection(sm(wrong).send(new GetSecretValueCommand({ SecretId: 'x' })));
    expect(err).toBeInstanceOf(SecretsManagerServiceException);
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toMatch(/^The request signature we calculated does not match the signature you provided/);
    const cfnErr = await rejection(cfn(wrong).send(new DescribeStacksCommand({ StackName: 'x' })));
    expect(cfnErr.name).toBe('SignatureDoesNotMatch');
    expect(cfnErr.$metadata?.httpStatusCode).toBe(403);
    // CloudWatch is signed for "monitoring": a correct signature passes, a wrong one does not
    expect((await rejection(cw(wrong).send(new DescribeAlarmsCommand({})))).name).toBe('SignatureDoesNotMatch');
    expect((await cw().send(new DescribeAlarmsCommand({ AlarmNames: ['none'] }))).MetricAlarms).toEqual([]);
  });

  it('a credential scoped to another region is refused', async () => {
    const err = await rejection(sm({ region: 'us-east-1' }).send(new GetSecretValueCommand({ SecretId: 'x' })));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toBe("Credential should be scoped to a valid region, not 'us-east-1'.");
    const cfnErr = await rejection(cfn({ region: 'us-east-1' }).send(new DescribeStacksCommand({ StackName: 'x' })));
    expect(cfnErr.name).toBe('SignatureDoesNotMatch');
  });

  it('unsigned requests, requests signed for another service, unknown operations', async () => {
    // unsigned
    let res = await fetch(standIn.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'secretsmanager.GetSecretValue' },
      body: '{"SecretId":"x"}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ __type: 'MissingAuthenticationTokenException', message: 'Request is missing Authentication Token' });
    res = await fetch(standIn.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeStacks&Version=2010-05-15',
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>MissingAuthenticationToken</Code>');

    // signed for "dynamodb" but sent as a Secrets Manager call
    const dynamoSigned = ddb();
    dynamoSigned.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers: Record<string, string> };
        request.headers['x-amz-target'] = 'secretsmanager.GetSecretValue';
        request.headers['content-type'] = 'application/x-amz-json-1.1';
        return next(args);
      },
      { step: 'build', name: 'retarget' },
    );
    const err = await rejection(dynamoSigned.send(new GetItemCommand({ TableName: 'T', Key: { k: { S: 'x' } } })));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toBe("Credential should be scoped to correct service: 'secretsmanager'.");

    // unknown operations
    res = await fetch(standIn.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'secretsmanager.RotateEverything' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ __type: 'UnknownOperationException' });
    res = await fetch(standIn.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'Action=DeleteEverything&Version=2010-05-15',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>InvalidAction</Code>');
    expect(standIn.requests.at(-1)).toEqual({ service: 'cloudformation', action: 'DeleteEverything', status: 400 });
  });
});

describe('fail()', () => {
  it('injects a non-retryable error once, in each protocol', async () => {
    const name = unique('Injected');
    standIn.createSecret(name, 'v');
    standIn.putStack(name, { A: 'a' });
    const denied = { code: 'AccessDeniedException', message: 'User: arn:aws:iam::123456789012:user/x is not authorized', status: 400 };
    standIn.fail('secretsmanager', 'GetSecretValue', denied);
    standIn.fail('cloudformation', 'DescribeStacks', {
      code: 'AccessDenied',
      message: 'not authorized to perform: cloudformation:DescribeStacks',
      status: 403,
    });
    standIn.fail('dynamodb', 'GetItem', denied);

    const smErr = await rejection(sm().send(new GetSecretValueCommand({ SecretId: name })));
    // (Secrets Manager models no AccessDeniedException class: it arrives as the service's base exception.)
    expect(smErr).toBeInstanceOf(SecretsManagerServiceException);
    expect(smErr.name).toBe('AccessDeniedException');
    expect(smErr.message).toBe(denied.message);
    const cfnErr = await rejection(cfn().send(new DescribeStacksCommand({ StackName: name })));
    expect(cfnErr.name).toBe('AccessDenied');
    expect(cfnErr.$metadata?.httpStatusCode).toBe(403);
    const ddbErr = await rejection(ddb().send(new GetItemCommand({ TableName: 'Devices', Key: { phoneNumber: { S: 'x' } } })));
    expect(ddbErr.name).toBe('AccessDeniedException');

    // each only once
    expect((await sm().send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('v');
    expect((await cfn().send(new DescribeStacksCommand({ StackName: name }))).Stacks).toHaveLength(1);
  });

  it('a throttled request is retried by the SDK and then succeeds', async () => {
    const name = unique('Throttled');
    standIn.putStack(name, { A: 'a' });
    standIn.fail('cloudformation', 'DescribeStacks', { code: 'Throttling', message: 'Rate exceeded', status: 400 }, 1);
    const before = standIn.requests.length;
    const { Stacks } = await cfn().send(new DescribeStacksCommand({ StackName: name }));
    expect(Stacks?.[0].StackName).toBe(name);
    expect(standIn.requests.slice(before)).toEqual([
      { service: 'cloudformation', action: 'DescribeStacks', status: 400 },
      { service: 'cloudformation', action: 'DescribeStacks', status: 200 },
    ]);
  });
});

describe('the SDK endpoint variables in a child process', () => {
  const script = `
    const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
    const { CloudFormationClient, DescribeStacksCommand } = require('@aws-sdk/client-cloudformation');
    const { DynamoDBClient, GetItemCommand } = require('@aws-sdk/client-dynamodb');
    const { SNSClient, ListSubscriptionsByTopicCommand } = require('@aws-sdk/client-sns');
    const { CloudWatchClient, DescribeAlarmsCommand } = require('@aws-sdk/client-cloudwatch');
    (async () => {
      const secret = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: process.argv[1] }));
      const stacks = await new CloudFormationClient({}).send(new DescribeStacksCommand({ StackName: process.argv[1] }));
      const item = await new DynamoDBClient({}).send(new GetItemCommand({ TableName: 'Devices', Key: { pk: { S: 'LINE#+15005550006' }, sk: { S: 'MEMBER#alice' } } }));
      const subs = await new SNSClient({}).send(new ListSubscriptionsByTopicCommand({ TopicArn: stacks.Stacks[0].Outputs[1].OutputValue }));
      const alarms = await new CloudWatchClient({}).send(new DescribeAlarmsCommand({ ActionPrefix: stacks.Stacks[0].Outputs[1].OutputValue }));
      console.log(JSON.stringify({ secret: secret.SecretString, output: stacks.Stacks[0].Outputs[0].OutputValue, client: item.Item.clientName.S, subscribers: subs.Subscriptions.length, alarms: alarms.MetricAlarms.length }));
    })().catch((err) => { console.error(err.name + ': ' + err.message); process.exit(1); });
  `;

  function runChild(env: Record<string, string>, arg: string): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(process.execPath, ['-e', script, arg], { env, cwd: path.resolve(__dirname, '../..'), timeout: 20_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(stdout.trim());
      });
    });
  }

  beforeAll(async () => {
    await standIn.createRegistryTables('Devices', 'Attempts');
    await ddb().send(
      new PutItemCommand({ TableName: 'Devices', Item: { pk: { S: 'LINE#+15005550006' }, sk: { S: 'MEMBER#alice' }, clientName: { S: 'alice' } } }),
    );
  });

  /** A stack whose second output is an alarm topic with one subscriber, notified by one alarm. */
  function childStack(name: string, out: string): void {
    const topic = standIn.createTopic(`${name}-Alarms`);
    standIn.subscribe(topic, 'ops@example.com', { confirmed: true });
    standIn.putAlarm({ name: `${name}-Alarm`, alarmActions: [topic] });
    standIn.putStack(name, { Out: out, AlarmTopicArn: topic });
  }

  it('AWS_ENDPOINT_URL sends every service to the stand-in', async () => {
    const name = unique('Child');
    standIn.createSecret(name, 'from-child');
    childStack(name, 'cfn-output');
    const before = standIn.requests.length;
    const out = JSON.parse(await runChild(standIn.childEnv(), name));
    expect(out).toEqual({ secret: 'from-child', output: 'cfn-output', client: 'alice', subscribers: 1, alarms: 1 });
    expect(standIn.requests.slice(before)).toEqual([
      { service: 'secretsmanager', action: 'GetSecretValue', status: 200 },
      { service: 'cloudformation', action: 'DescribeStacks', status: 200 },
      { service: 'dynamodb', action: 'GetItem', status: 200 },
      { service: 'sns', action: 'ListSubscriptionsByTopic', status: 200 },
      { service: 'cloudwatch', action: 'DescribeAlarms', status: 200 },
    ]);
  });

  it('the service-specific AWS_ENDPOINT_URL_<SERVICE> variables win over AWS_ENDPOINT_URL', async () => {
    const name = unique('Child');
    standIn.createSecret(name, 'specific');
    childStack(name, 'o');
    const env = standIn.childEnv({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1', // nothing listens there
      AWS_ENDPOINT_URL_SECRETS_MANAGER: standIn.url,
      AWS_ENDPOINT_URL_CLOUDFORMATION: standIn.url,
      AWS_ENDPOINT_URL_DYNAMODB: standIn.url,
      AWS_ENDPOINT_URL_SNS: standIn.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: standIn.url,
    });
    expect(JSON.parse(await runChild(env, name))).toEqual({ secret: 'specific', output: 'o', client: 'alice', subscribers: 1, alarms: 1 });
  });
});
