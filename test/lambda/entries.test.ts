/**
 * The Lambda entry points: deps from the environment (DynamoDB endpoint pointed at dynalite via the SDK's
 * standard AWS_ENDPOINT_URL_DYNAMODB; Secrets Manager mocked), and cold-start hygiene of their bundles.
 */
import path from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { build } from 'esbuild';
import { depsFromEnvironment } from '../../lambda/handlers/environment';
import { DEVICE_SECRET, FAKE_CREDS, INCOMING_RESOURCE, registerDevice, signedEvent, startDynalite, type Dynalite } from './helpers';

const ENTRIES = ['lambda/retrieve-capability-token.ts', 'lambda/call-incoming.ts', 'lambda/call-outgoing.ts'];
const ROOT = path.resolve(__dirname, '../..');

let db: Dynalite;
const saved = { ...process.env };
const sm = mockClient(SecretsManagerClient);

beforeAll(async () => {
  db = await startDynalite();
  await registerDevice(db.registry); // cheap test hash; verification reads the cost from the hash
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
  sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(FAKE_CREDS) });
});
afterAll(async () => {
  process.env = saved;
  sm.restore();
  await db.close();
});

test('entries export handlers that build their deps from the environment on first use; one secret fetch', async () => {
  const token = await import('../../lambda/retrieve-capability-token');
  const incoming = await import('../../lambda/call-incoming');
  const outgoing = await import('../../lambda/call-outgoing');
  await expect(token.handler({ twilioPhoneNumber: '+81-50-3123-4567', deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({ success: true, identity: 'DeviceId_0001' });
  await expect(token.handler({ twilioPhoneNumber: '+81-50-3123-4567', deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({ success: true });
  await expect(incoming.handler(signedEvent(INCOMING_RESOURCE, { To: '+815031234567' }))).resolves.toContain('<Client>DeviceId_0001</Client>');
  await expect(outgoing.handler({ params: {}, signature: '' })).rejects.toThrow('[403] Forbidden');
  // One fetch per container (= per entry module here): token and incoming each fetched once; outgoing too.
  expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 3);
});

test('missing environment gives a clear error', () => {
  expect(() => depsFromEnvironment({ ATTEMPTS_TABLE: 'a', TWILIO_SECRET_ID: 's' })).toThrow('The environment variable DEVICES_TABLE is not set');
  expect(() => depsFromEnvironment({ DEVICES_TABLE: 'd', ATTEMPTS_TABLE: 'a' })).toThrow('TWILIO_SECRET_ID');
  expect(() => depsFromEnvironment({ DEVICES_TABLE: 'd', ATTEMPTS_TABLE: 'a', TWILIO_SECRET_ID: 's', TOKEN_TTL_SECONDS: '999999' })).toThrow('TOKEN_TTL_SECONDS');
});

test.each(ENTRIES)('%s bundles without the root twilio module (deep imports only)', async (entry) => {
  const result = await build({
    entryPoints: [path.join(ROOT, entry)],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const twilio = inputs.filter((i) => i.includes('node_modules/twilio/'));
  expect(twilio.length).toBeGreaterThan(0);
  expect(twilio.filter((i) => i.includes('twilio/lib/rest/') || /twilio\/lib\/index\.js$/.test(i) || i.includes('twilio/lib/base/'))).toEqual([]);
});
