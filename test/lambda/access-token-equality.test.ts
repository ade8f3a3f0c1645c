/**
 * The token route signs its Access Token with jws (lambda/core/access-token.ts) instead of Twilio's `AccessToken`,
 * which brings jsonwebtoken, lodash and semver into the bundle (issue 17). Proof that nothing else changed: for the same inputs and
 * the same clock second, the token equals the one Twilio's `AccessToken` (twilio 6.2.0, jsonwebtoken 9) makes —
 * header for header and claim for claim, in the same key order, and byte for byte. Twilio's class is imported here
 * only. The clock is frozen (jest fake timers, `Date` only) because `AccessToken` reads it itself.
 */
import fc from 'fast-check';
import AccessToken from 'twilio/lib/jwt/AccessToken';
import { createVoiceAccessToken, PREFLIGHT_TOKEN_TTL_SECONDS, preflightGrant, type VoiceGrantOptions } from '../../lambda/core/access-token';
import { verifyAccessToken } from '../../lambda/core/access-token-verify';
import { isValidClientName } from '../../lambda/core/phone-rules';
import { TOKEN_TTL_SECONDS } from '../../lambda/core/settings';
import type { TwilioCredentials } from '../../lambda/ports';
import { TEST_CREDENTIALS } from '../support/fixtures';

type Creds = Pick<TwilioCredentials, 'accountSid' | 'apiKeySid' | 'apiKeySecret' | 'twimlAppSid'>;

const PREFLIGHT_APP = 'AP99999999999999999999999999999999';
const SOFTPHONE_GRANT: VoiceGrantOptions = { outgoingApplicationSid: TEST_CREDENTIALS.twimlAppSid, incomingAllow: true };
/** A clock reading late in its second: both must floor it the same way. */
const NOW_MS = Date.UTC(2026, 0, 15, 9, 30, 0, 999);

beforeEach(() => {
  // Only Date is faked: the test runner's timers stay real.
  jest.useFakeTimers({
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
});
afterEach(() => jest.useRealTimers());

/** The token Twilio's own helper makes for these inputs at `nowMs` (as lambda/core/access-token.ts did before jws). */
function twilioToken(creds: Creds, identity: string, ttl: number, grant: VoiceGrantOptions, nowMs: number): string {
  jest.setSystemTime(nowMs);
  const token = new AccessToken(creds.accountSid, creds.apiKeySid, creds.apiKeySecret, { identity, ttl });
  token.addGrant(new AccessToken.VoiceGrant({ incomingAllow: grant.incomingAllow, outgoingApplicationSid: grant.outgoingApplicationSid }));
  return token.toJwt();
}

interface Decoded {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  headerJson: string;
  payloadJson: string;
  signature: string;
}

function decode(jwt: string): Decoded {
  const [h, p, signature, ...rest] = jwt.split('.');
  expect(rest).toEqual([]);
  const headerJson = Buffer.from(h, 'base64url').toString('utf8');
  const payloadJson = Buffer.from(p, 'base64url').toString('utf8');
  return { header: JSON.parse(headerJson), payload: JSON.parse(payloadJson), headerJson, payloadJson, signature };
}

/** Every key path in document order (`grants.voice.incoming.allow`): the order is part of the bytes. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}${k}`, ...keyPaths(v, `${prefix}${k}.`)]);
}

/** Ours and Twilio's for the same inputs and second: equal header, claims, key order, signature and string. */
function expectSameAsTwilio(creds: Creds, identity: string, ttl: number, grant: VoiceGrantOptions, nowMs = NOW_MS): Decoded {
  const theirs = twilioToken(creds, identity, ttl, grant, nowMs);
  const ours = createVoiceAccessToken(creds, identity, ttl, new Date(nowMs), grant);
  const [a, b] = [decode(ours.token), decode(theirs)];
  expect(keyPaths(a.header)).toEqual(keyPaths(b.header));
  expect(a.header).toEqual(b.header);
  expect(keyPaths(a.payload)).toEqual(keyPaths(b.payload));
  expect(a.payload).toEqual(b.payload);
  expect(a.headerJson).toBe(b.headerJson);
  expect(a.payloadJson).toBe(b.payloadJson);
  expect(a.signature).toBe(b.signature);
  expect(ours.token).toBe(theirs);
  expect(ours.expiresAt.getTime()).toBe((b.payload.exp as number) * 1000);
  return a;
}

describe('the Access Token equals the one Twilio’s AccessToken makes', () => {
  test('the softphone’s token: header and claims as Twilio writes them, in this order', () => {
    const t = expectSameAsTwilio(TEST_CREDENTIALS, 'DeviceId_0001', TOKEN_TTL_SECONDS.default, SOFTPHONE_GRANT);
    const iat = Math.floor(NOW_MS / 1000);
    // Spelled out, so a change on either side is visible here and not only as "not equal".
    expect(t.headerJson).toBe('{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}');
    expect(t.payloadJson).toBe(
      JSON.stringify({
        jti: `${TEST_CREDENTIALS.apiKeySid}-${iat}`,
        grants: { identity: 'DeviceId_0001', voice: { incoming: { allow: true }, outgoing: { application_sid: TEST_CREDENTIALS.twimlAppSid } } },
        iat,
        exp: iat + TOKEN_TTL_SECONDS.default,
        iss: TEST_CREDENTIALS.apiKeySid,
        sub: TEST_CREDENTIALS.accountSid,
      }),
    );
  });

  test.each([
    ['incoming allowed (the softphone)', SOFTPHONE_GRANT],
    ['incoming not allowed', { outgoingApplicationSid: TEST_CREDENTIALS.twimlAppSid, incomingAllow: false }],
    ['the preflight grant', preflightGrant({ preflightTwimlAppSid: PREFLIGHT_APP })!],
    ['no outgoing application (empty SID)', { outgoingApplicationSid: '', incomingAllow: true }],
    ['neither', { outgoingApplicationSid: '', incomingAllow: false }],
  ])('grant: %s', (_, grant) => {
    expectSameAsTwilio(TEST_CREDENTIALS, 'DeviceId_0001', TOKEN_TTL_SECONDS.default, grant);
  });

  test.each([
    ['min', TOKEN_TTL_SECONDS.min],
    ['default', TOKEN_TTL_SECONDS.default],
    ['max', TOKEN_TTL_SECONDS.max],
    ['preflight', PREFLIGHT_TOKEN_TTL_SECONDS],
  ])('lifetime: %s', (_, ttl) => {
    const t = expectSameAsTwilio(TEST_CREDENTIALS, 'DeviceId_0001', ttl, SOFTPHONE_GRANT);
    expect((t.payload.exp as number) - (t.payload.iat as number)).toBe(ttl);
  });

  test('the preflight token as the token route makes it', () => {
    const grant = preflightGrant({ preflightTwimlAppSid: PREFLIGHT_APP })!;
    const t = expectSameAsTwilio(TEST_CREDENTIALS, 'DeviceId_0001', PREFLIGHT_TOKEN_TTL_SECONDS, grant);
    expect(t.payload.grants).toEqual({ identity: 'DeviceId_0001', voice: { outgoing: { application_sid: PREFLIGHT_APP } } });
  });

  test.each(['a', '0', '_', 'DeviceId_0001', 'front.desk-2_B', '_.-', '9-._', 'x'.repeat(121)])('an identity the app allows: %j', (identity) => {
    expect(isValidClientName(identity)).toBe(true);
    expectSameAsTwilio(TEST_CREDENTIALS, identity, TOKEN_TTL_SECONDS.default, SOFTPHONE_GRANT);
  });

  // Outside the app's identity rule, but JSON escaping and UTF-8 must still agree.
  test.each(['受付', 'a"b\\c', '</script>', 'tab\there', '\u2028\u2029', 'emoji 📞', '\ud800 lone surrogate'])(
    'an identity the app would refuse still gives the same bytes: %j',
    (identity) => {
      expectSameAsTwilio(TEST_CREDENTIALS, identity, TOKEN_TTL_SECONDS.default, SOFTPHONE_GRANT);
    },
  );

  test.each([
    ['a non-ASCII secret (UTF-8 key bytes)', { ...TEST_CREDENTIALS, apiKeySecret: 'sécret-秘密-🔑' }],
    ['a secret longer than the HMAC block (64 bytes)', { ...TEST_CREDENTIALS, apiKeySecret: 'k'.repeat(200) }],
    ['a one-character secret', { ...TEST_CREDENTIALS, apiKeySecret: 'k' }],
    ['other SIDs', { ...TEST_CREDENTIALS, accountSid: 'ACffffffffffffffffffffffffffffffff', apiKeySid: 'SKffffffffffffffffffffffffffffffff' }],
  ])('credentials: %s', (_, creds) => {
    expectSameAsTwilio(creds, 'DeviceId_0001', TOKEN_TTL_SECONDS.default, SOFTPHONE_GRANT);
  });

  test.each([
    ['the start of a second', Date.UTC(2026, 0, 15, 9, 30, 0, 0)],
    ['the end of a second', Date.UTC(2026, 0, 15, 9, 30, 0, 999)],
    ['the epoch’s first second', 999],
    ['2038 and beyond (past 32-bit seconds)', Date.UTC(2040, 5, 1)],
  ])('clock: %s', (_, nowMs) => {
    expectSameAsTwilio(TEST_CREDENTIALS, 'DeviceId_0001', TOKEN_TTL_SECONDS.default, SOFTPHONE_GRANT, nowMs);
  });

  test('without `now`, the clock is read as Twilio reads it', () => {
    jest.setSystemTime(NOW_MS);
    const ours = createVoiceAccessToken(TEST_CREDENTIALS, 'DeviceId_0001', 600);
    expect(ours.token).toBe(twilioToken(TEST_CREDENTIALS, 'DeviceId_0001', 600, SOFTPHONE_GRANT, NOW_MS));
  });

  test('property: any identity, lifetime, credentials, grant and second give the same token', () => {
    const sid = (prefix: string) => fc.stringMatching(/^[0-9a-f]{32}$/).map((hex) => `${prefix}${hex}`);
    fc.assert(
      fc.property(
        fc.oneof(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,120}$/), fc.string({ minLength: 1, unit: 'binary' })),
        fc.integer({ min: TOKEN_TTL_SECONDS.min, max: TOKEN_TTL_SECONDS.max }),
        fc.record({
          accountSid: sid('AC'),
          apiKeySid: sid('SK'),
          apiKeySecret: fc.oneof(fc.stringMatching(/^[A-Za-z0-9]{32}$/), fc.string({ minLength: 1, maxLength: 100, unit: 'binary' })),
          twimlAppSid: sid('AP'),
        }),
        fc.boolean(),
        fc.option(sid('AP'), { nil: undefined }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (identity, ttl, creds, incomingAllow, otherApp, nowMs) => {
          const grant = { outgoingApplicationSid: otherApp ?? creds.twimlAppSid, incomingAllow };
          expectSameAsTwilio(creds, identity, ttl, grant, nowMs);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('what the Voice SDK and the page authorizer rely on', () => {
  test('Twilio’s fields: HS256 with the API key, cty twilio-fpa;v=1, iss/sub, jti, exp = iat + ttl, the VoiceGrant; no nbf', () => {
    jest.setSystemTime(NOW_MS);
    const { token, expiresAt } = createVoiceAccessToken(TEST_CREDENTIALS, 'DeviceId_0001', 3600);
    const { header, payload } = decode(token);
    const iat = Math.floor(NOW_MS / 1000);
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' });
    expect(payload).toEqual({
      jti: `${TEST_CREDENTIALS.apiKeySid}-${iat}`,
      grants: { identity: 'DeviceId_0001', voice: { incoming: { allow: true }, outgoing: { application_sid: TEST_CREDENTIALS.twimlAppSid } } },
      iat,
      exp: iat + 3600,
      iss: TEST_CREDENTIALS.apiKeySid,
      sub: TEST_CREDENTIALS.accountSid,
    });
    expect(expiresAt).toEqual(new Date((iat + 3600) * 1000));
  });

  test('the page authorizer accepts it (verifyAccessToken): identity and expiry', () => {
    const nowSeconds = Math.floor(NOW_MS / 1000);
    for (const ttl of [TOKEN_TTL_SECONDS.min, TOKEN_TTL_SECONDS.max]) {
      const { token, expiresAt } = createVoiceAccessToken(TEST_CREDENTIALS, 'front.desk-2_B', ttl, new Date(NOW_MS));
      expect(verifyAccessToken(token, TEST_CREDENTIALS, nowSeconds)).toEqual({
        ok: true,
        identity: 'front.desk-2_B',
        expiresAt: expiresAt.getTime() / 1000,
      });
    }
  });

  test('what Twilio’s helper refuses is refused', () => {
    const at = new Date(NOW_MS);
    expect(() => createVoiceAccessToken(TEST_CREDENTIALS, '', 600, at)).toThrow('identity');
    expect(() => createVoiceAccessToken({ ...TEST_CREDENTIALS, apiKeySecret: '' }, 'a', 600, at)).toThrow('apiKeySecret');
    expect(() => createVoiceAccessToken({ ...TEST_CREDENTIALS, accountSid: '' }, 'a', 600, at)).toThrow('accountSid');
    expect(() => createVoiceAccessToken({ ...TEST_CREDENTIALS, apiKeySid: '' }, 'a', 600, at)).toThrow('apiKeySid');
    // jsonwebtoken wants an integer expiresIn; Twilio turns 0 into 3600, which we refuse rather than guess
    for (const ttl of [0, -1, 1.5, Number.NaN]) expect(() => createVoiceAccessToken(TEST_CREDENTIALS, 'a', ttl, at)).toThrow(RangeError);
  });
});
