/**
 * Twilio secret rotation: the cached secret has a bounded age, a signed webhook that does not match the cached
 * Auth Token forces one (rate-limited) re-read, and unsigned or forged floods cost no extra Secrets Manager calls.
 */
import { GetSecretValueCommand, InternalServiceError, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import jwt from 'jsonwebtoken';
import { secretsManagerCredentials } from '../../lambda/adapters/secrets-manager-credentials';
import type { TwilioCredentials } from '../../lambda/ports';
import { createIncomingCallHandler } from '../../lambda/handlers/incoming-call';
import { createOutgoingCallHandler } from '../../lambda/handlers/outgoing-call';
import { createTokenHandler } from '../../lambda/handlers/token';
import { useDynalite } from '../support/dynalite';
import {
  DEVICE_CLIENT,
  DEVICE_NUMBER,
  DEVICE_SECRET,
  INCOMING_RESOURCE,
  OUTGOING_RESOURCE,
  signedEvent,
  TEST_CREDENTIALS,
} from '../support/fixtures';
import { callable, makeDeps, registerDevice, TEST_SCRYPT, testConfig } from './helpers';

/** The credentials before and after a rotation (this test needs two sets). */
const V1: TwilioCredentials = TEST_CREDENTIALS;
const V2: TwilioCredentials = {
  ...TEST_CREDENTIALS,
  apiKeySid: 'SKtest11111111111111111111111111',
  apiKeySecret: 'rotated-api-key-secret-not-real',
  authToken: 'rotated-auth-token-not-real',
};
const FORBIDDEN = /^\[403\] Forbidden$/;
// The documented periods; each is pinned below by behaviour one millisecond before and at its end.
const MAX_AGE_MS = 5 * 60_000;
const FORCED_MS = 60_000;
const RETRY_AFTER_FAILURE_MS = 30_000;

const smMock = mockClient(SecretsManagerClient);
let secret: TwilioCredentials;
/** Fresh tables for every test, with the walkthrough's device registered. */
const db = useDynalite({ seed: ({ lines }) => registerDevice(lines) });
let clock: number;
const now = () => clock;
const fetches = () => smMock.commandCalls(GetSecretValueCommand).length;

afterAll(() => {
  smMock.restore();
});
beforeEach(() => {
  clock = Date.UTC(2024, 0, 1);
  secret = V1;
  smMock.reset();
  smMock.on(GetSecretValueCommand).callsFake(() => ({ SecretString: JSON.stringify(secret) }));
});

function handlers() {
  const credentials = secretsManagerCredentials('twilio/test', { now });
  const deps = makeDeps(db, { credentials, clock: () => new Date(clock) });
  return {
    credentials,
    incoming: callable(createIncomingCallHandler(deps)),
    outgoing: callable(createOutgoingCallHandler(deps)),
    token: callable(createTokenHandler(deps, { dummyScryptParams: TEST_SCRYPT })),
  };
}
const incomingEvent = (authToken: string) => signedEvent(INCOMING_RESOURCE, { To: DEVICE_NUMBER }, { authToken });
const outgoingEvent = (authToken: string) =>
  signedEvent(OUTGOING_RESOURCE, { From: `client:${DEVICE_CLIENT}`, callOutgoingPhoneNumber: '090-5987-6543' }, { authToken });
const forged = () => signedEvent(INCOMING_RESOURCE, { To: DEVICE_NUMBER }, { signature: 'bm90LWEtcmVhbC1zaWduYXR1cmU=' });
const unsigned = () => signedEvent(INCOMING_RESOURCE, { To: DEVICE_NUMBER }, { signature: '' });

describe('cache age', () => {
  test('fetched once and reused for warm invocations within the cache period (5 minutes)', async () => {
    const credentials = secretsManagerCredentials('twilio/test', { now });
    await expect(Promise.all([credentials(), credentials(), credentials()])).resolves.toEqual([V1, V1, V1]);
    secret = V2;
    clock += MAX_AGE_MS - 1;
    await expect(credentials()).resolves.toEqual(V1);
    expect(fetches()).toBe(1);
    clock += 1;
    await expect(Promise.all([credentials(), credentials()])).resolves.toEqual([V2, V2]);
    expect(fetches()).toBe(2); // concurrent callers after expiry share one re-read
    await expect(credentials()).resolves.toEqual(V2);
    expect(fetches()).toBe(2);
  });

  test('tokens issued after the cache period are signed with the rotated API key', async () => {
    const { token } = handlers();
    const before = await token({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET });
    expect(jwt.verify(before.capabilityToken, V1.apiKeySecret)).toMatchObject({ iss: V1.apiKeySid });

    secret = V2; // put-secret-value after revoking the old key
    clock += MAX_AGE_MS;
    const after = await token({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET });
    expect(jwt.verify(after.capabilityToken, V2.apiKeySecret)).toMatchObject({ iss: V2.apiKeySid });
    expect(() => jwt.verify(after.capabilityToken, V1.apiKeySecret)).toThrow();
    expect(fetches()).toBe(2);
  });

  test('Secrets Manager down when the cache expires: the last good value is kept and retried later, not on every request', async () => {
    const credentials = secretsManagerCredentials('twilio/test', { now });
    await expect(credentials()).resolves.toEqual(V1);
    smMock.reset();
    smMock.on(GetSecretValueCommand).rejects(new InternalServiceError({ message: 'boom', $metadata: {} }));
    clock += MAX_AGE_MS;
    await expect(credentials()).resolves.toEqual(V1);
    await expect(credentials()).resolves.toEqual(V1);
    expect(fetches()).toBe(1);
    clock += RETRY_AFTER_FAILURE_MS - 1;
    await expect(credentials()).resolves.toEqual(V1);
    expect(fetches()).toBe(1);
    clock += 1;
    smMock.reset();
    smMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(V2) });
    await expect(credentials()).resolves.toEqual(V2);
    expect(fetches()).toBe(1);
  });
});

describe('Auth Token rotation and webhook signatures', () => {
  test.each([
    ['incoming', 'incoming', incomingEvent, '<Identity>DeviceId_0001</Identity>'],
    ['outgoing', 'outgoing', outgoingEvent, '>+819059876543</Number>'],
  ] as const)('%s: a webhook signed with the rotated Auth Token is accepted on the first try', async (_n, which, event, twiml) => {
    const h = handlers();
    await expect(h[which](event(V1.authToken))).resolves.toContain(twiml);
    expect(fetches()).toBe(1);

    secret = V2; // rotated in Twilio and put-secret-value; the container still caches V1
    clock += 1000;
    await expect(h[which](event(V2.authToken))).resolves.toContain(twiml);
    expect(fetches()).toBe(2); // one forced re-read
    await expect(h[which](event(V2.authToken))).resolves.toContain(twiml);
    expect(fetches()).toBe(2); // then cached
    // the old token no longer passes, and re-checking it costs nothing within the interval
    await expect(h[which](event(V1.authToken))).rejects.toThrow(FORBIDDEN);
    expect(fetches()).toBe(2);
  });

  test('a burst of 50 wrongly signed requests triggers at most one forced re-read', async () => {
    const { incoming } = handlers();
    await expect(incoming(incomingEvent(V1.authToken))).resolves.toContain('<Response>');
    expect(fetches()).toBe(1);

    const firstForcedAt = clock;
    const burst = Array.from({ length: 25 }, () => incoming(forged()));
    for (const r of await Promise.allSettled(burst)) expect(r).toMatchObject({ status: 'rejected', reason: { message: '[403] Forbidden' } });
    for (let i = 0; i < 25; i++) {
      clock += 1000; // spread over 25 s, still within the interval
      await expect(incoming(forged())).rejects.toThrow(FORBIDDEN);
    }
    expect(fetches()).toBe(2);
    // valid requests still pass meanwhile, from the cache
    await expect(incoming(incomingEvent(V1.authToken))).resolves.toContain('<Identity>DeviceId_0001</Identity>');
    expect(fetches()).toBe(2);

    // one more re-read is allowed once the interval has passed, not a millisecond before
    clock = firstForcedAt + FORCED_MS - 1;
    await expect(incoming(forged())).rejects.toThrow(FORBIDDEN);
    expect(fetches()).toBe(2);
    clock += 1;
    await expect(incoming(forged())).rejects.toThrow(FORBIDDEN);
    await expect(incoming(forged())).rejects.toThrow(FORBIDDEN);
    expect(fetches()).toBe(3);
  });

  test('unsigned requests trigger no re-read', async () => {
    const { incoming, outgoing } = handlers();
    await expect(incoming(incomingEvent(V1.authToken))).resolves.toContain('<Response>');
    secret = V2;
    for (let i = 0; i < 50; i++) {
      await expect(incoming(unsigned())).rejects.toThrow(FORBIDDEN);
      await expect(outgoing({ ...outgoingEvent(V1.authToken), signature: '' })).rejects.toThrow(FORBIDDEN);
    }
    expect(fetches()).toBe(1);
    // the forced re-read is still available to the first real (signed) mismatch
    await expect(incoming(incomingEvent(V2.authToken))).resolves.toContain('<Identity>DeviceId_0001</Identity>');
    expect(fetches()).toBe(2);
  });

  test('Secrets Manager failing on the forced re-read: 403, and the failure counts toward the rate limit', async () => {
    const { incoming } = handlers();
    await expect(incoming(incomingEvent(V1.authToken))).resolves.toContain('<Response>');
    smMock.reset();
    smMock.on(GetSecretValueCommand).rejects(new InternalServiceError({ message: 'boom', $metadata: {} }));
    for (let i = 0; i < 10; i++) await expect(incoming(incomingEvent(V2.authToken))).rejects.toThrow(FORBIDDEN);
    expect(fetches()).toBe(1);
    // the cached token keeps working
    await expect(incoming(incomingEvent(V1.authToken))).resolves.toContain('<Identity>DeviceId_0001</Identity>');
  });

  test('with signature validation off, nothing is read for signatures', async () => {
    const credentials = secretsManagerCredentials('twilio/test', { now });
    const incoming = callable(createIncomingCallHandler(makeDeps(db, { credentials, config: testConfig({ validateWebhookSignatures: false }) })));
    await expect(incoming(forged())).resolves.toContain('<Identity>DeviceId_0001</Identity>');
    expect(fetches()).toBe(0);
  });
});
