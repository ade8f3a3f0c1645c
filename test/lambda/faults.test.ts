/**
 * Fault injection: DynamoDB and Secrets Manager failing (aws-sdk-client-mock for the AWS clouds, and a
 * silent 127.0.0.1 server for real timeouts). The token API answers 503 with the JSON error shape, the TwiML
 * handlers answer valid TwiML ("temporarily unavailable", then Hangup), and the next request after
 * recovery succeeds.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, ProvisionedThroughputExceededException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import {
  GetSecretValueCommand,
  InternalServiceError,
  ResourceNotFoundException as SecretNotFound,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { awsClientConfig, AWS_MAX_ATTEMPTS } from '../../lambda/adapters/aws-clients';
import { createDynamoClient } from '../../lambda/adapters/dynamo';
import { DynamoAttemptStore } from '../../lambda/adapters/dynamo-attempt-store';
import { DynamoCallLog } from '../../lambda/adapters/dynamo-call-log';
import { DynamoLineDirectory } from '../../lambda/adapters/dynamo-line-directory';
import { secretsManagerCredentials } from '../../lambda/adapters/secrets-manager-credentials';
import { credentialsFromEnv, staticCredentials } from '../../lambda/core/credentials';
import { hashDeviceSecret } from '../../lambda/core/device-secret';
import { createIncomingCallHandler } from '../../lambda/handlers/incoming-call';
import { createOutgoingCallHandler } from '../../lambda/handlers/outgoing-call';
import { createTokenHandler, UNAVAILABLE_MESSAGE } from '../../lambda/handlers/token';
import {
  DEVICE_CLIENT,
  DEVICE_NUMBER,
  DEVICE_SECRET,
  INCOMING_RESOURCE,
  incomingCallParams,
  OUTGOING_RESOURCE,
  outgoingCallParams,
  signedEvent,
  TEST_CREDENTIALS,
} from '../support/fixtures';
import { TEST_CREDENTIALS_ENV } from '../support/credentials-env';
import { callable, expectThrown, makeDeps, RecordingLog, TEST_SCRYPT } from './helpers';

const UNAVAILABLE_TWIML =
  /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Say language="en-US">[^<]*temporarily unavailable[^<]*<\/Say><Hangup\/><\/Response>$/;
const TOKEN_503 = `[503] {"success":false,"capabilityToken":null,"error":"${UNAVAILABLE_MESSAGE}"}`;

const docMock = mockClient(DynamoDBDocumentClient);
/** A teammate of the walkthrough's device on its line (rung second; the target of an internal call). */
const TEAMMATE = 'DeviceId_0002';
/** The registry table's items (registry-schema.ts): the walkthrough's line, its two members and their name claims. */
let registryItems: Record<string, unknown>[];

beforeAll(async () => {
  const pk = `LINE#${DEVICE_NUMBER}`;
  const secretHash = await hashDeviceSecret(DEVICE_SECRET, TEST_SCRYPT);
  registryItems = [
    { pk, sk: 'LINE', number: DEVICE_NUMBER, memberCount: 2 },
    { pk, sk: `MEMBER#${DEVICE_CLIENT}`, clientName: DEVICE_CLIENT, secretHash, createdAt: '2024-01-01T00:00:00.000Z' },
    {
      pk,
      sk: `MEMBER#${TEAMMATE}`,
      clientName: TEAMMATE,
      secretHash: await hashDeviceSecret('teammate-secret', TEST_SCRYPT),
      createdAt: '2024-01-02T00:00:00.000Z',
    },
    { pk: `CLIENT#${DEVICE_CLIENT}`, sk: 'CLIENT', line: DEVICE_NUMBER, claimedAt: 0 },
    { pk: `CLIENT#${TEAMMATE}`, sk: 'CLIENT', line: DEVICE_NUMBER, claimedAt: 0 },
  ];
});
beforeEach(() => {
  docMock.reset();
});
afterAll(() => docMock.restore());

/** The registry's stores on one client whose document client is mocked. */
function stores(client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTESTFAKE', secretAccessKey: 'fake' } })) {
  return {
    lines: new DynamoLineDirectory({ client, table: 'registry' }),
    attempts: new DynamoAttemptStore({ client, table: 'attempts' }),
    calls: new DynamoCallLog({ client, table: 'calls', retentionDays: 90 }),
  };
}

/** An item as a read with a ProjectionExpression gets it: only sign-in's unprojected read sees a secret hash. */
function projected(item: Record<string, unknown>, projection: string | undefined): Record<string, unknown> {
  if (projection) {
    const { secretHash: _hash, ...rest } = item;
    return rest;
  }
  return item;
}

/** The registry table's GetItem as DynamoDB answers it: a claim or a member by its key. */
function registryGet(input: GetCommandInput) {
  const item = registryItems.find((i) => i.pk === input.Key?.pk && i.sk === input.Key?.sk);
  return item ? { Item: projected(item, input.ProjectionExpression) } : {};
}

/** The registry table's Query on one line: its line item and members (`sk < :below`) or its members only (`begins_with`). */
function registryQuery(input: QueryCommandInput) {
  const values = input.ExpressionAttributeValues ?? {};
  const onLine = registryItems.filter((i) => i.pk === values[':pk']);
  const matching = input.KeyConditionExpression?.includes('begins_with')
    ? onLine.filter((i) => String(i.sk).startsWith(String(values[':member'])))
    : onLine.filter((i) => String(i.sk) < String(values[':below']));
  return { Items: matching.map((i) => projected(i, input.ProjectionExpression)) };
}

function healthyDynamo() {
  docMock.reset();
  docMock.on(GetCommand).callsFake((input: GetCommandInput) => (input.TableName === 'registry' ? registryGet(input) : {}));
  docMock.on(QueryCommand).callsFake((input: QueryCommandInput) => (input.TableName === 'registry' ? registryQuery(input) : { Items: [] }));
  docMock.on(UpdateCommand).resolves({ Attributes: { failures: 1, lastFailureAt: 0, expiresAt: 4102444800 } });
  docMock.on(DeleteCommand).resolves({});
  docMock.on(PutCommand).resolves({});
}

const dynamoFaults: [string, () => Error][] = [
  ['throttling', () => new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} })],
  ['timeout', () => Object.assign(new Error('Connection timed out after 1500 ms'), { name: 'TimeoutError' })],
  ['missing table', () => new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} })],
  ['network error', () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
];

describe.each(dynamoFaults)('DynamoDB %s', (_name, fault) => {
  test('token → 503 JSON error; then recovers', async () => {
    const handler = callable(createTokenHandler(makeDeps(stores()), { dummyScryptParams: TEST_SCRYPT }));
    docMock.on(QueryCommand).rejects(fault());
    docMock.on(GetCommand).rejects(fault());
    expect((await expectThrown(() => handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET }))).message).toBe(TOKEN_503);
    healthyDynamo();
    await expect(handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({
      success: true,
      identity: DEVICE_CLIENT,
    });
  });

  // Each registry read a webhook makes: incoming reads the line with its members (one Query); outgoing reads the
  // caller's client-name claim, then the member it names, and for an internal call the teammate's claim too.
  test.each([
    [
      'incoming (line read)',
      createIncomingCallHandler,
      signedEvent(INCOMING_RESOURCE, incomingCallParams()),
      () => docMock.on(QueryCommand).rejects(fault()),
      `<Identity>${DEVICE_CLIENT}</Identity>`,
    ],
    [
      'outgoing (client-name claim read)',
      createOutgoingCallHandler,
      signedEvent(OUTGOING_RESOURCE, outgoingCallParams()),
      () => docMock.on(GetCommand, { TableName: 'registry', Key: { pk: `CLIENT#${DEVICE_CLIENT}`, sk: 'CLIENT' } }).rejects(fault()),
      '>+819059876543</Number>',
    ],
    [
      'outgoing (device read)',
      createOutgoingCallHandler,
      signedEvent(OUTGOING_RESOURCE, outgoingCallParams()),
      () => docMock.on(GetCommand, { TableName: 'registry', Key: { pk: `LINE#${DEVICE_NUMBER}`, sk: `MEMBER#${DEVICE_CLIENT}` } }).rejects(fault()),
      '>+819059876543</Number>',
    ],
    [
      'outgoing (the call log’s places read)',
      createOutgoingCallHandler,
      signedEvent(OUTGOING_RESOURCE, outgoingCallParams()),
      () => docMock.on(QueryCommand, { TableName: 'calls' }).rejects(fault()),
      '>+819059876543</Number>',
    ],
    [
      'outgoing (the call log’s place taken)',
      createOutgoingCallHandler,
      signedEvent(OUTGOING_RESOURCE, outgoingCallParams()),
      () => docMock.on(PutCommand, { TableName: 'calls' }).rejects(fault()),
      '>+819059876543</Number>',
    ],
    [
      'outgoing internal call (teammate read)',
      createOutgoingCallHandler,
      signedEvent(OUTGOING_RESOURCE, outgoingCallParams({ callOutgoingPhoneNumber: '', callOutgoingClient: TEAMMATE })),
      () => docMock.on(GetCommand, { TableName: 'registry', Key: { pk: `CLIENT#${TEAMMATE}`, sk: 'CLIENT' } }).rejects(fault()),
      `<Identity>${TEAMMATE}</Identity>`,
    ],
  ] as const)('%s → "temporarily unavailable" TwiML; then recovers', async (_name, factory, event, failRegistryRead, dialled) => {
    const handler = callable(factory(makeDeps(stores())));
    healthyDynamo();
    failRegistryRead();
    await expect(handler(event)).resolves.toMatch(UNAVAILABLE_TWIML);
    healthyDynamo();
    await expect(handler(event)).resolves.toContain(dialled);
  });
});

test('the attempts table failing while recording a failure → 503, not a silent pass', async () => {
  healthyDynamo();
  docMock.on(UpdateCommand).rejects(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }));
  const handler = callable(createTokenHandler(makeDeps(stores()), { dummyScryptParams: TEST_SCRYPT }));
  expect((await expectThrown(() => handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'wrong' }))).message).toBe(TOKEN_503);
});

describe('Secrets Manager', () => {
  const smMock = mockClient(SecretsManagerClient);
  afterAll(() => smMock.restore());
  beforeEach(() => {
    smMock.reset();
    healthyDynamo();
  });
  const good = JSON.stringify(TEST_CREDENTIALS);

  test('fetched once per container and cached', async () => {
    smMock.on(GetSecretValueCommand).resolves({ SecretString: good });
    const credentials = secretsManagerCredentials('twilio/test');
    const results = await Promise.all([credentials(), credentials(), credentials()]);
    await credentials();
    expect(results[0]).toEqual(TEST_CREDENTIALS);
    expect(smMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(smMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: 'twilio/test' });
  });

  test.each([
    ['service error', () => smMock.on(GetSecretValueCommand).rejects(new InternalServiceError({ message: 'boom', $metadata: {} }))],
    ['secret not found', () => smMock.on(GetSecretValueCommand).rejects(new SecretNotFound({ message: 'no such secret', $metadata: {} }))],
    ['timeout', () => smMock.on(GetSecretValueCommand).rejects(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))],
    [
      'missing fields',
      () =>
        smMock
          .on(GetSecretValueCommand)
          .resolves({ SecretString: JSON.stringify({ accountSid: TEST_CREDENTIALS.accountSid, authToken: TEST_CREDENTIALS.authToken }) }),
    ],
    ['not JSON', () => smMock.on(GetSecretValueCommand).resolves({ SecretString: 'accountSid=AC…' })],
    ['binary secret', () => smMock.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) })],
  ])('%s: token 503, TwiML "temporarily unavailable", then recovery', async (_name, inject) => {
    inject();
    const credentials = secretsManagerCredentials('twilio/test');
    const token = callable(createTokenHandler(makeDeps(stores(), { credentials }), { dummyScryptParams: TEST_SCRYPT }));
    const incoming = callable(createIncomingCallHandler(makeDeps(stores(), { credentials })));
    const outgoing = callable(createOutgoingCallHandler(makeDeps(stores(), { credentials })));
    const inEvent = signedEvent(INCOMING_RESOURCE, incomingCallParams());
    const outEvent = signedEvent(OUTGOING_RESOURCE, outgoingCallParams({ callOutgoingPhoneNumber: '090-5987-6543' }));

    expect((await expectThrown(() => token({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET }))).message).toBe(TOKEN_503);
    await expect(incoming(inEvent)).resolves.toMatch(UNAVAILABLE_TWIML);
    await expect(outgoing(outEvent)).resolves.toMatch(UNAVAILABLE_TWIML);

    smMock.reset();
    smMock.on(GetSecretValueCommand).resolves({ SecretString: good });
    await expect(token({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({ success: true });
    await expect(incoming(inEvent)).resolves.toContain('<Identity>DeviceId_0001</Identity>');
    await expect(outgoing(outEvent)).resolves.toContain('>+819059876543</Number>');
    expect(smMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1); // cached after recovery
  });

  test('a secret with missing fields gives a clear error naming them (and no values) in the log', async () => {
    smMock
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ accountSid: TEST_CREDENTIALS.accountSid, apiKeySecret: TEST_CREDENTIALS.apiKeySecret }) });
    const credentials = secretsManagerCredentials('twilio/test');
    await expect(credentials()).rejects.toThrow('The Twilio secret twilio/test is missing the field(s): apiKeySid, authToken, twimlAppSid');
    const log = new RecordingLog();
    const token = callable(createTokenHandler(makeDeps(stores(), { credentials }), { dummyScryptParams: TEST_SCRYPT }), log);
    const error = await token({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET }).catch((e: unknown) => e);
    const output = log.text;
    expect((error as Error).message).toBe(TOKEN_503);
    expect(output).toContain('missing the field(s): apiKeySid, authToken, twimlAppSid');
    for (const s of [TEST_CREDENTIALS.apiKeySecret, DEVICE_SECRET]) expect(output).not.toContain(s);
  });
});

describe('timeouts and bounded retries (real sockets on 127.0.0.1)', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let connections = 0;
  beforeAll(async () => {
    // Accepts connections and never answers: a hung dependency.
    server = createServer((s) => {
      connections++;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('the client config has explicit timeouts and bounded attempts', () => {
    const cfg = awsClientConfig();
    expect(cfg.maxAttempts).toBe(AWS_MAX_ATTEMPTS);
    expect(AWS_MAX_ATTEMPTS).toBeLessThanOrEqual(3);
    expect(cfg.requestHandler).toMatchObject({
      connectionTimeout: expect.any(Number),
      requestTimeout: expect.any(Number),
      throwOnRequestTimeout: true,
    });
  });

  test('a hung DynamoDB is answered 503 by the request timeout, after a bounded number of attempts', async () => {
    docMock.restore();
    try {
      const { port } = server.address() as AddressInfo;
      const client = createDynamoClient({
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDTESTFAKE', secretAccessKey: 'fake' },
      });
      const log = new RecordingLog();
      const handler = callable(createTokenHandler(makeDeps(stores(client)), { dummyScryptParams: TEST_SCRYPT }), log);
      connections = 0;
      // The server never answers, so only the client's own request timeout can end the request. (How long that
      // takes is the timeout's business, asserted nowhere: a loaded machine must not fail this test.)
      expect((await expectThrown(() => handler({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET }))).message).toBe(TOKEN_503);
      expect(log.lines).toContainEqual(
        expect.objectContaining({ level: 'ERROR', fields: { error: expect.objectContaining({ message: expect.stringMatching(/TimeoutError/) }) } }),
      );
      expect(connections).toBeGreaterThanOrEqual(1);
      // The token handler reads its two lockout counts (the device's and the line's) at once: each read makes at
      // most AWS_MAX_ATTEMPTS attempts, and the first to fail ends the request.
      expect(connections).toBeLessThanOrEqual(2 * AWS_MAX_ATTEMPTS);
      client.destroy();
    } finally {
      mockClient(DynamoDBDocumentClient);
    }
  });
});

describe('environment credentials (local use)', () => {
  test('all set → credentials; none → undefined; some → clear error naming the missing ones', () => {
    const env = TEST_CREDENTIALS_ENV;
    expect(credentialsFromEnv(env)).toEqual(TEST_CREDENTIALS);
    expect(credentialsFromEnv({})).toBeUndefined();
    expect(() => credentialsFromEnv({ TWILIO_ACCOUNT_SID: 'ACtest' })).toThrow(
      /TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET, TWILIO_AUTH_TOKEN, TWILIO_TWIML_APP_SID/,
    );
    expect(() => staticCredentials({ ...TEST_CREDENTIALS, authToken: '' })).toThrow(/authToken/);
  });
});
