/**
 * "Test my setup": the token API's `purpose: "preflight"` (a 60-second token for the preflight TwiML App, no
 * incoming calls, after the same sign-in checks; 503 when no preflight app is configured), the credentials'
 * optional `preflightTwimlAppSid`, and the preflight webhook (POST /twilio/retrieve_twiml/preflight) the Voice
 * SDK's `Device.runPreflight` calls: a few words, a pause for the test, a hang-up, nothing recorded.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import jwt from 'jsonwebtoken';
import { RecordingMetrics } from '../../lambda/adapters/recording-metrics';
import { secretsManagerCredentials } from '../../lambda/adapters/secrets-manager-credentials';
import { PREFLIGHT_TOKEN_TTL_SECONDS } from '../../lambda/core/access-token';
import { credentialsFromEnv, parseCredentials, staticCredentials } from '../../lambda/core/credentials';
import { API_PATHS } from '../../lambda/core/paths';
import { TOKEN_TTL_SECONDS } from '../../lambda/core/settings';
import { PREFLIGHT_MESSAGE, PREFLIGHT_PAUSE_SECONDS } from '../../lambda/core/twiml';
import { createPreflightHandler, PREFLIGHT_REFUSED_MESSAGE } from '../../lambda/handlers/preflight';
import { createTokenHandler, PREFLIGHT_NOT_CONFIGURED_MESSAGE } from '../../lambda/handlers/token';
import type { TwilioCredentials } from '../../lambda/ports';
import { modelErrors as validateModel } from '../../lib/api/model-validation';
import { TOKEN_REQUEST_MODEL } from '../../lib/api/routes';
import { useDynalite } from '../support/dynalite';
import { DEVICE_CLIENT, DEVICE_NUMBER, DEVICE_SECRET, signedEvent, TEST_CREDENTIALS } from '../support/fixtures';
import { TEST_CREDENTIALS_ENV } from '../support/credentials-env';
import { callable, expectThrown, makeDeps, RecordingLog, registerDevice, TEST_SCRYPT } from './helpers';

const PREFLIGHT_APP = 'AP99990123456789abcdef0123456789ab';
const WITH_PREFLIGHT = { ...TEST_CREDENTIALS, preflightTwimlAppSid: PREFLIGHT_APP };

const db = useDynalite({ seed: ({ lines }) => registerDevice(lines) });

function tokenHandler(credentials: TwilioCredentials = WITH_PREFLIGHT) {
  const metrics = new RecordingMetrics();
  const log = new RecordingLog();
  const handler = createTokenHandler(makeDeps(db, { credentials: staticCredentials(credentials) }), { dummyScryptParams: TEST_SCRYPT });
  return { call: callable(handler, log, metrics), metrics, log };
}

const claimsOf = (token: string) => jwt.verify(token, TEST_CREDENTIALS.apiKeySecret, { algorithms: ['HS256'] }) as jwt.JwtPayload;

describe('the token API, purpose "preflight"', () => {
  test('a 60-second token for the preflight TwiML App, taking no calls; the answer says its purpose', async () => {
    const { call, metrics, log } = tokenHandler();
    const res = await call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET, purpose: 'preflight' });
    expect(res).toEqual({
      success: true,
      capabilityToken: expect.any(String),
      identity: DEVICE_CLIENT,
      line: DEVICE_NUMBER,
      expiresAt: expect.any(String),
      purpose: 'preflight',
    });
    const claims = claimsOf(res.capabilityToken);
    expect(PREFLIGHT_TOKEN_TTL_SECONDS).toBe(TOKEN_TTL_SECONDS.min);
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(new Date(res.expiresAt).getTime()).toBe(claims.exp! * 1000);
    expect(claims.grants).toEqual({ identity: DEVICE_CLIENT, voice: { outgoing: { application_sid: PREFLIGHT_APP } } });
    expect(metrics.totals()).toEqual({ SignIn: { ok: 1 } });
    expect(log.text).not.toContain(res.capabilityToken);
  });

  test('a sign-in without a purpose, or with purpose "call", is unchanged: the softphone’s app, incoming calls, no purpose field', async () => {
    const { call } = tokenHandler();
    for (const body of [
      { twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET },
      { twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET, purpose: 'call' },
    ]) {
      const res = await call(body);
      expect(Object.keys(res).sort()).toEqual(['capabilityToken', 'expiresAt', 'identity', 'line', 'success']);
      const claims = claimsOf(res.capabilityToken);
      expect(claims.grants.voice).toEqual({ incoming: { allow: true }, outgoing: { application_sid: TEST_CREDENTIALS.twimlAppSid } });
      expect(claims.exp! - claims.iat!).toBe(3600);
    }
  });

  test('no preflight app configured: 503 with a JSON error saying what to run (after the secret was checked)', async () => {
    const { call } = tokenHandler(TEST_CREDENTIALS);
    const e = await expectThrown(() => call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET, purpose: 'preflight' }));
    expect(e.status).toBe(503);
    expect(JSON.parse(e.body)).toEqual({ success: false, capabilityToken: null, error: PREFLIGHT_NOT_CONFIGURED_MESSAGE });
    expect(PREFLIGHT_NOT_CONFIGURED_MESSAGE).toBe('Test my setup is not configured: run npm run twilio:setup.');
    // a wrong secret is still a 403, not a hint that the test is unconfigured
    expect((await expectThrown(() => call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'wrong', purpose: 'preflight' }))).status).toBe(403);
  });

  test('the same checks as a sign-in: a wrong secret is refused and counted by the lockout; an unknown purpose is a 400', async () => {
    const { call, metrics } = tokenHandler();
    expect((await expectThrown(() => call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'wrong', purpose: 'preflight' }))).status).toBe(403);
    expect((await db.attempts.getAttempts(DEVICE_NUMBER, Math.floor(Date.now() / 1000)))?.failures).toBe(1);
    for (const purpose of ['record', '', 7, null]) {
      const e = await expectThrown(() => call({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET, purpose }));
      expect([e.status, JSON.parse(e.body).error]).toEqual([400, 'purpose must be one of call, preflight.']);
    }
    expect(metrics.totals()).toEqual({ SignIn: { refused: 1, invalid: 4 } });
  });

  test('the request model takes an optional, bounded purpose', () => {
    const base = { twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET };
    expect(validateModel(TOKEN_REQUEST_MODEL, base)).toEqual([]);
    expect(validateModel(TOKEN_REQUEST_MODEL, { ...base, purpose: 'preflight' })).toEqual([]);
    expect(validateModel(TOKEN_REQUEST_MODEL, { ...base, purpose: 'call' })).toEqual([]);
    expect(validateModel(TOKEN_REQUEST_MODEL, { ...base, purpose: 1 })).not.toEqual([]);
    expect(validateModel(TOKEN_REQUEST_MODEL, { ...base, purpose: 'x'.repeat(17) })).not.toEqual([]);
  });
});

describe('the credentials’ optional preflight TwiML App', () => {
  test('a secret with it, without it (every existing secret stays valid), or with an empty one', () => {
    expect(parseCredentials(WITH_PREFLIGHT, 'test').preflightTwimlAppSid).toBe(PREFLIGHT_APP);
    expect(parseCredentials({ ...TEST_CREDENTIALS, preflightTwimlAppSid: `  ${PREFLIGHT_APP} ` }, 'test').preflightTwimlAppSid).toBe(PREFLIGHT_APP);
    expect(parseCredentials(TEST_CREDENTIALS, 'test')).toEqual(TEST_CREDENTIALS);
    expect('preflightTwimlAppSid' in parseCredentials({ ...TEST_CREDENTIALS, preflightTwimlAppSid: '' }, 'test')).toBe(false);
    expect('preflightTwimlAppSid' in parseCredentials({ ...TEST_CREDENTIALS, preflightTwimlAppSid: 42 }, 'test')).toBe(false);
  });

  test('from Secrets Manager, as the functions read it', async () => {
    const sm = mockClient(SecretsManagerClient);
    try {
      sm.on(GetSecretValueCommand)
        .resolvesOnce({ SecretString: JSON.stringify(WITH_PREFLIGHT) })
        .resolves({ SecretString: JSON.stringify(TEST_CREDENTIALS) });
      const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-not-real' } });
      expect((await secretsManagerCredentials('twilio', { client })()).preflightTwimlAppSid).toBe(PREFLIGHT_APP);
      expect((await secretsManagerCredentials('twilio', { client })()).preflightTwimlAppSid).toBeUndefined();
    } finally {
      sm.restore();
    }
  });

  test('locally from TWILIO_PREFLIGHT_TWIML_APP_SID, optional', () => {
    const env = TEST_CREDENTIALS_ENV;
    expect(credentialsFromEnv(env)).toEqual(TEST_CREDENTIALS);
    expect(credentialsFromEnv({ ...env, TWILIO_PREFLIGHT_TWIML_APP_SID: PREFLIGHT_APP })).toEqual(WITH_PREFLIGHT);
    // alone it is not a set of credentials
    expect(credentialsFromEnv({ TWILIO_PREFLIGHT_TWIML_APP_SID: PREFLIGHT_APP })).toBeUndefined();
  });
});

describe('the preflight webhook', () => {
  const XML = '<?xml version="1.0" encoding="UTF-8"?>';
  const preflight = () => {
    const metrics = new RecordingMetrics();
    return { call: callable(createPreflightHandler(makeDeps(db)), new RecordingLog(), metrics), metrics };
  };
  const params = (from: string) => ({
    AccountSid: TEST_CREDENTIALS.accountSid,
    ApplicationSid: PREFLIGHT_APP,
    CallSid: 'CA0123456789abcdef0123456789abcdef',
    From: from,
    To: '',
    Direction: 'inbound',
  });

  test('a registered device: a few words, a pause for the test, a hang-up; nothing recorded', async () => {
    const { call } = preflight();
    const twiml = await call(signedEvent(API_PATHS.preflight, params(`client:${DEVICE_CLIENT}`)));
    expect(twiml).toBe(
      `${XML}<Response><Say language="en-US">${PREFLIGHT_MESSAGE}</Say><Pause length="${PREFLIGHT_PAUSE_SECONDS}"/><Hangup/></Response>`,
    );
    expect(PREFLIGHT_PAUSE_SECONDS).toBeGreaterThanOrEqual(20); // the Voice SDK's echo test runs 20 s
    expect(twiml).not.toMatch(/<Record|<Dial|<Echo|<Play|loop=/);
  });

  test.each([
    ['a phone number', '+819059876543'],
    ['an identity no device has', 'client:DeviceId_9999'],
    ['a malformed identity', 'client:../../x'],
    ['nothing', ''],
  ])('the caller is %s: told so, then hung up', async (_what, from) => {
    const { call } = preflight();
    expect(await call(signedEvent(API_PATHS.preflight, params(from)))).toBe(
      `${XML}<Response><Say language="en-US">${PREFLIGHT_REFUSED_MESSAGE}</Say><Hangup/></Response>`,
    );
  });

  test('signed like every webhook', async () => {
    const { call, metrics } = preflight();
    await expect(call(signedEvent(API_PATHS.preflight, params(`client:${DEVICE_CLIENT}`), { signature: '' }))).rejects.toThrow('[403] Forbidden');
    await expect(call(signedEvent(API_PATHS.preflight, params(`client:${DEVICE_CLIENT}`), { authToken: 'forged' }))).rejects.toThrow(
      '[403] Forbidden',
    );
    expect(metrics.totals()).toEqual({ SignatureRejected: { '-': 2 } });
  });
});
