/**
 * The handlers in the Lambda runtime (`lambda/adapters/lambda-runtime.ts` over the handler table): deps built
 * from the function's environment on first use (DynamoDB pointed at dynalite through the SDK's standard
 * AWS_ENDPOINT_URL_DYNAMODB; Secrets Manager mocked), one secret fetch per container, and the table itself.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { depsFromEnvironment, lambdaHandler } from '../../lambda/adapters/lambda-runtime';
import * as HANDLERS from '../../lambda/handlers';
import { HANDLER_TABLE } from '../../lambda/handlers/table';
import { ROUTES } from '../../lib/api/routes';
import { useDynalite } from '../support/dynalite';
import { DEVICE_NUMBER_TYPED, DEVICE_SECRET, INCOMING_RESOURCE, incomingCallParams, signedEvent, TEST_CREDENTIALS } from '../support/fixtures';
import { registerDevice } from './helpers';

// Fresh tables for every test, the walkthrough's device in them (cheap test hash; verification reads the cost from the hash).
const db = useDynalite({ seed: ({ devices }) => registerDevice(devices) });
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
    DEVICES_TABLE: db.devicesTable,
    ATTEMPTS_TABLE: db.attemptsTable,
    TWILIO_SECRET_ID: 'twilio-softphone/test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
});
afterAll(() => {
  process.env = saved;
  sm.restore();
});

test('the handler table has exactly one factory per route, named by its RouteId', () => {
  expect(Object.keys(HANDLERS).sort()).toEqual(ROUTES.map((r) => r.id).sort());
  for (const r of ROUTES) expect(typeof HANDLER_TABLE[r.id]).toBe('function');
});

test('each route handler builds its deps from the environment on first use; one secret fetch per container', async () => {
  const token = lambdaHandler('token', HANDLER_TABLE.token);
  const incoming = lambdaHandler('callIncoming', HANDLER_TABLE.callIncoming);
  const outgoing = lambdaHandler('callOutgoing', HANDLER_TABLE.callOutgoing);
  await expect(token({ twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({
    success: true,
    identity: 'DeviceId_0001',
  });
  await expect(token({ twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({ success: true });
  await expect(incoming(signedEvent(INCOMING_RESOURCE, incomingCallParams()))).resolves.toContain('<Client>DeviceId_0001</Client>');
  await expect(outgoing({ params: {}, signature: '' })).rejects.toThrow('[403] Forbidden');
  // One fetch per container (= per lambdaHandler here), the second token request served from the cache.
  expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 3);
});

test('missing environment gives a clear error', () => {
  expect(() => depsFromEnvironment({ ATTEMPTS_TABLE: 'a', TWILIO_SECRET_ID: 's' })).toThrow('The environment variable DEVICES_TABLE is not set');
  expect(() => depsFromEnvironment({ DEVICES_TABLE: 'd', ATTEMPTS_TABLE: 'a' })).toThrow('TWILIO_SECRET_ID');
  expect(() => depsFromEnvironment({ DEVICES_TABLE: 'd', ATTEMPTS_TABLE: 'a', TWILIO_SECRET_ID: 's', TOKEN_TTL_SECONDS: '999999' })).toThrow(
    'TOKEN_TTL_SECONDS',
  );
});
