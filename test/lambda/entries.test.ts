/**
 * The handlers in the Lambda runtime (`lambda/adapters/lambda-runtime.ts` over the handler table): deps built
 * from the function's environment on first use, by the function's own builder (`lambda/adapters/function-deps.ts`) (DynamoDB pointed at dynalite through the SDK's standard
 * AWS_ENDPOINT_URL_DYNAMODB; Secrets Manager mocked), one secret fetch per container, and the table itself.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import * as DEPS from '../../lambda/adapters/function-deps';
import { lambdaHandler } from '../../lambda/adapters/lambda-runtime';
import * as HANDLERS from '../../lambda/handlers';
import { HANDLER_TABLE } from '../../lambda/handlers/table';
import { ROUTES, SUPPORT_FUNCTIONS } from '../../lib/api/routes';
import { useDynalite } from '../support/dynalite';
import { DEVICE_NUMBER_TYPED, DEVICE_SECRET, INCOMING_RESOURCE, incomingCallParams, signedEvent, TEST_CREDENTIALS } from '../support/fixtures';
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
    TWILIO_SECRET_ID: 'twilio-softphone/test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
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

test('missing environment gives a clear error', () => {
  const base = { REGISTRY_TABLE: 'r', ATTEMPTS_TABLE: 'a', TWILIO_SECRET_ID: 's' };
  expect(() => DEPS.token({ ATTEMPTS_TABLE: 'a', TWILIO_SECRET_ID: 's' })).toThrow('The environment variable REGISTRY_TABLE is not set');
  expect(() => DEPS.token({ REGISTRY_TABLE: 'r', ATTEMPTS_TABLE: 'a' })).toThrow('TWILIO_SECRET_ID');
  expect(() => DEPS.token({ ...base, TOKEN_TTL_SECONDS: '999999' })).toThrow('TOKEN_TTL_SECONDS');
  // each function's own resources
  expect(() => DEPS.voicemails(base)).toThrow('The environment variable RECORDINGS_BUCKET is not set');
  expect(() => DEPS.recordingStatus({ ...base, RECORDINGS_BUCKET: 'b' })).toThrow('The environment variable VOICEMAIL_TOPIC_ARN is not set');
  expect(() => DEPS.registryUpgrade(base)).toThrow('The environment variable LEGACY_DEVICES_TABLE is not set');
  // a function's deps have what its handler needs
  expect(Object.keys(DEPS.token(base)).sort()).toEqual(['attempts', 'config', 'credentials', 'lines']);
});
