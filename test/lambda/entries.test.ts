/**
 * The handlers in the Lambda runtime (`lambda/adapters/lambda-runtime.ts` over the handler table): deps built
 * from the function's environment on first use, by the function's own builder (`lambda/adapters/function-deps.ts`) (DynamoDB pointed at dynalite through the SDK's standard
 * AWS_ENDPOINT_URL_DYNAMODB; Secrets Manager mocked), one secret fetch per container, and the table itself.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import * as DEPS from '../../lambda/adapters/function-deps';
import { lambdaHandler } from '../../lambda/adapters/lambda-runtime';
import * as HANDLERS from '../../lambda/handlers';
import { OUTGOING_MESSAGES } from '../../lambda/handlers/outgoing-call';
import { HANDLER_TABLE } from '../../lambda/handlers/table';
import { ROUTES, SUPPORT_FUNCTIONS } from '../../lib/api/routes';
import { useDynalite } from '../support/dynalite';
import {
  DEVICE_CLIENT,
  DEVICE_NUMBER,
  DEVICE_NUMBER_TYPED,
  DEVICE_SECRET,
  INCOMING_RESOURCE,
  incomingCallParams,
  OUTGOING_RESOURCE,
  outgoingCallParams,
  signedEvent,
  TEST_CREDENTIALS,
} from '../support/fixtures';
import { registerDevice } from './helpers';

// Fresh tables for every test, the walkthrough's device in them (cheap test hash; verification reads the cost from the hash).
const db = useDynalite({ seed: ({ lines }) => registerDevice(lines) });
const saved = { ...process.env };
const sm = mockClient(SecretsManagerClient);

beforeAll(() => {
  sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(TEST_CREDENTIALS) });
});
// The function's environment, pointing at this test's tables.
beforeEach(() => {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDTESTFAKE',
    AWS_SECRET_ACCESS_KEY: 'test-secret-not-real',
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    REGISTRY_TABLE: db.registryTable,
    ATTEMPTS_TABLE: db.attemptsTable,
    CALLS_TABLE: db.callsTable,
    TWILIO_SECRET_ID: 'twilio-softphone/test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    // the metrics' EMF lines are the subject of metrics.test.ts; here they would only fill the output
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
});
afterAll(() => {
  process.env = saved;
  sm.restore();
});

test('the handler table has exactly one factory per function (each route, each support function), named by its id', () => {
  const ids = [...ROUTES.map((r) => r.id), ...SUPPORT_FUNCTIONS.map((f) => f.id)];
  expect(Object.keys(HANDLERS).sort()).toEqual([...ids].sort());
  for (const id of ids) expect(typeof HANDLER_TABLE[id]).toBe('function');
  // and one deps builder per function, so each bundle carries only the clients its handler uses
  expect(Object.keys(DEPS).sort()).toEqual([...ids].sort());
});

test('each route handler builds its deps from the environment on first use; one secret fetch per container', async () => {
  const token = lambdaHandler('token', HANDLER_TABLE.token, DEPS.token);
  const incoming = lambdaHandler('callIncoming', HANDLER_TABLE.callIncoming, DEPS.callIncoming);
  const outgoing = lambdaHandler('callOutgoing', HANDLER_TABLE.callOutgoing, DEPS.callOutgoing);
  await expect(token({ twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({
    success: true,
    identity: 'DeviceId_0001',
  });
  await expect(token({ twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({ success: true });
  await expect(incoming(signedEvent(INCOMING_RESOURCE, incomingCallParams()))).resolves.toContain('<Identity>DeviceId_0001</Identity>');
  await expect(outgoing({ params: {}, signature: '' })).rejects.toThrow('[403] Forbidden');
  // One fetch per container (= per lambdaHandler here), the second token request served from the cache.
  expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 3);
});

test("the call log's functions build it on CALLS_TABLE from the environment, with the settings' limits", async () => {
  Object.assign(process.env, { MAX_CALLS_PER_DEVICE: '1', CALL_LOG_RETENTION_DAYS: '7' });
  const status = lambdaHandler('callStatus', HANDLER_TABLE.callStatus, DEPS.callStatus);
  const outgoing = lambdaHandler('callOutgoing', HANDLER_TABLE.callOutgoing, DEPS.callOutgoing);
  const calls = lambdaHandler('calls', HANDLER_TABLE.calls, DEPS.calls);
  const sid = (n: number) => `CA${n.toString(16).padStart(32, '0')}`;
  // one call at a time for this device (MAX_CALLS_PER_DEVICE=1): the second is refused while the first lasts
  await expect(outgoing(signedEvent(OUTGOING_RESOURCE, outgoingCallParams({ CallSid: sid(1) })))).resolves.toContain('<Number ');
  await expect(outgoing(signedEvent(OUTGOING_RESOURCE, outgoingCallParams({ CallSid: sid(2) })))).resolves.toContain(OUTGOING_MESSAGES.deviceBusy);
  // the first call's dialled leg ends (its status callback): its place is free again
  const ended = { AccountSid: TEST_CREDENTIALS.accountSid, CallSid: sid(3), ParentCallSid: sid(1), CallStatus: 'completed', To: '+819059876543' };
  const query = { leg: 'callee', line: DEVICE_NUMBER, client: DEVICE_CLIENT };
  await expect(status(signedEvent('/twilio/call_status', ended, { query }))).resolves.toContain('<Response/>');
  await expect(outgoing(signedEvent(OUTGOING_RESOURCE, outgoingCallParams({ CallSid: sid(4) })))).resolves.toContain('<Number ');
  // the page lists the line's calls (the fourth has no event yet: its places only); each kept for
  // CALL_LOG_RETENTION_DAYS (the TTL)
  const page = (await calls({ identity: DEVICE_CLIENT, request: { action: 'list' } })) as { calls: { callSid: string; outcome: string }[] };
  expect(page.calls.map((c) => [c.callSid, c.outcome]).sort()).toEqual([
    [sid(1), 'answered'], // its dialled leg completed
    [sid(2), 'refused'],
  ]);
  const item = await db.client.send(new GetItemCommand({ TableName: db.callsTable, Key: { pk: { S: `CALL#${sid(2)}` }, sk: { S: 'CALL' } } }));
  const expiresAt = Number(item.Item?.expiresAt?.N);
  expect(expiresAt - Date.now() / 1000).toBeGreaterThan(7 * 86_400 - 120);
  expect(expiresAt - Date.now() / 1000).toBeLessThanOrEqual(7 * 86_400);
});

test('missing environment gives a clear error', () => {
  const base = { REGISTRY_TABLE: 'r', ATTEMPTS_TABLE: 'a', TWILIO_SECRET_ID: 's' };
  expect(() => DEPS.token({ ATTEMPTS_TABLE: 'a', TWILIO_SECRET_ID: 's' })).toThrow('The environment variable REGISTRY_TABLE is not set');
  expect(() => DEPS.token({ REGISTRY_TABLE: 'r', ATTEMPTS_TABLE: 'a' })).toThrow('TWILIO_SECRET_ID');
  expect(() => DEPS.token({ ...base, TOKEN_TTL_SECONDS: '999999' })).toThrow('TOKEN_TTL_SECONDS');
  // each function's own resources
  expect(() => DEPS.voicemails(base)).toThrow('The environment variable RECORDINGS_BUCKET is not set');
  expect(() => DEPS.recordingStatus({ ...base, RECORDINGS_BUCKET: 'b', CALLS_TABLE: 'c' })).toThrow(
    'The environment variable VOICEMAIL_TOPIC_ARN is not set',
  );
  expect(() => DEPS.registryUpgrade(base)).toThrow('The environment variable LEGACY_DEVICES_TABLE is not set');
  // the call log's functions, and only they, need its table (the stack sets CALLS_TABLE for exactly these)
  for (const build of [DEPS.callOutgoing, DEPS.callAction, DEPS.callStatus, DEPS.calls])
    expect(() => build(base)).toThrow('The environment variable CALLS_TABLE is not set');
  expect(() => DEPS.recordingStatus({ ...base, RECORDINGS_BUCKET: 'b', VOICEMAIL_TOPIC_ARN: 'arn:aws:sns:us-east-1:1:t' })).toThrow('CALLS_TABLE');
  for (const build of [DEPS.token, DEPS.callIncoming, DEPS.forwardScreen, DEPS.directory, DEPS.pageAuthorizer])
    expect(Object.keys(build(base))).not.toContain('calls');
  expect(Object.keys(DEPS.callStatus({ ...base, CALLS_TABLE: 'c' })).sort()).toEqual(['attempts', 'calls', 'config', 'credentials', 'lines']);
  expect(Object.keys(DEPS.calls({ ...base, CALLS_TABLE: 'c' }))).toContain('calls');
  // the call log's settings, checked on the cold start like the others
  expect(() => DEPS.callStatus({ ...base, CALLS_TABLE: 'c', MAX_CALLS_PER_DEVICE: '11' })).toThrow('MAX_CALLS_PER_DEVICE');
  expect(() => DEPS.calls({ ...base, CALLS_TABLE: 'c', CALL_LOG_RETENTION_DAYS: '0' })).toThrow('CALL_LOG_RETENTION_DAYS');
  // a function's deps have what its handler needs
  expect(Object.keys(DEPS.token(base)).sort()).toEqual(['attempts', 'config', 'credentials', 'lines']);
});
