import jwt from 'jsonwebtoken';
import { createVoiceAccessToken } from '../../lambda/core/access-token';
import { loadConfig } from '../../lambda/core/settings';
import { DEFAULT_SCRYPT_PARAMS, generateDeviceSecret, hashDeviceSecret, hashParams, verifyDeviceSecret } from '../../lambda/core/device-secret';
import { forbidden, parseHttpErrorMessage, tokenError } from '../../lambda/core/http-error';
import fc from 'fast-check';
import { checkDestination, phoneRulesWithTypes } from '../../lambda/core/destination-policy';
import { countryOfNumber, isValidClientName, normalizePhoneNumber } from '../../lambda/core/phone';
import {
  dialNumberTwiml,
  dialTeammateTwiml,
  type FlowContext,
  flowStepTwiml,
  sayAndHangupTwiml,
  temporarilyUnavailableTwiml,
} from '../../lambda/core/twiml';
import { isValidTwilioSignature, parseWebhookEvent, publicWebhookUrl } from '../../lambda/core/webhook';
import { TEST_CREDENTIALS } from '../support/fixtures';
import { TEST_SCRYPT } from './helpers';

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>';

describe('phone', () => {
  test.each([
    ['+81-50-3123-4567', '+815031234567'], // the walkthrough's format
    ['+81 50 3123 4567', '+815031234567'],
    ['+81 (50) 3123-4567', '+815031234567'],
    ['+815031234567', '+815031234567'],
    ['  +81.50.3123.4567  ', '+815031234567'],
    ['+1 (415) 555-2671', '+14155552671'],
  ])('normalises %s to %s', (input, e164) => {
    expect(normalizePhoneNumber(input)).toBe(e164);
  });

  test('the walkthrough’s replace("-","") would not normalise spaces/parentheses, we do', () => {
    expect('+81 (50) 3123-4567'.replace('-', '')).not.toBe('+815031234567');
    expect(normalizePhoneNumber('+81 (50) 3123-4567')).toBe('+815031234567');
  });

  test('reads a national-format number in the default country', () => {
    expect(normalizePhoneNumber('090-5987-6543', 'JP')).toBe('+819059876543');
    expect(normalizePhoneNumber('050-3123-4567', 'JP')).toBe('+815031234567');
  });

  test.each(['', 'abc', '090-5987-6543', '+81', '+8190</Number><Number>+1900', '+81 90 5987 6543; DROP', '1'.repeat(40)])('refuses %j', (input) => {
    expect(() => normalizePhoneNumber(input)).toThrow();
  });

  test('min metadata (token, incoming, registry) and max metadata (outgoing) normalise every number alike', () => {
    // Registry keys are written with `min`; the outgoing path compares against them with `max`.
    const samples = [
      ['+81-50-3123-4567'],
      ['090-5987-6543', 'JP'],
      ['+1 (415) 555-2671'],
      ['(415) 555-2671', 'US'],
      ['+44 20 7946 0000'],
      ['020 7946 0000', 'GB'],
      ['+33 1 23 45 67 89'],
      ['+49 30 123456'],
      ['+61 2 9374 4000'],
      ['+55 11 91234-5678'],
      ['+86 10 1234 5678'],
      ['+91 98765 43210'],
      ['+1 900 555 0123'],
      ['+81 990 123 456'],
      ['+48 801 234 567'],
    ] as const;
    for (const [input, country] of samples) {
      expect([input, phoneRulesWithTypes.normalize(input, country)]).toEqual([input, normalizePhoneNumber(input, country)]);
      expect(phoneRulesWithTypes.countryOf(normalizePhoneNumber(input, country))).toBe(countryOfNumber(normalizePhoneNumber(input, country)));
    }
    fc.assert(
      fc.property(fc.stringMatching(/^\+[1-9][0-9]{6,14}$/), (e164) => {
        let min: string | Error, max: string | Error;
        try {
          min = normalizePhoneNumber(e164);
        } catch (e) {
          min = e as Error;
        }
        try {
          max = phoneRulesWithTypes.normalize(e164);
        } catch (e) {
          max = e as Error;
        }
        expect(typeof min === 'string' ? min : 'refused').toBe(typeof max === 'string' ? max : 'refused');
      }),
      { numRuns: 500 },
    );
  });

  test('countryOfNumber', () => {
    expect(countryOfNumber('+815031234567')).toBe('JP');
    expect(countryOfNumber('+14155552671')).toBe('US');
    expect(countryOfNumber('nonsense')).toBeUndefined();
  });

  test('client names', () => {
    expect(isValidClientName('DeviceId_0001')).toBe(true);
    expect(isValidClientName('a.b-c_d')).toBe(true);
    for (const bad of ['', 'client:x', 'a b', '<Client>', 'x'.repeat(122), '-lead']) expect(isValidClientName(bad)).toBe(false);
  });

  describe('destination policy (toll fraud)', () => {
    test('the walkthrough destination, international and national format', () => {
      expect(checkDestination('+81-90-5987-6543', 'JP')).toEqual({ ok: true, e164: '+819059876543', country: 'JP' });
      expect(checkDestination('090-5987-6543', 'JP')).toEqual({ ok: true, e164: '+819059876543', country: 'JP' });
    });
    test('number types are an allow-list: personal numbers and pagers refused; VOIP (JP 050) and UAN (UK 03) allowed', () => {
      expect(checkDestination('+44 7012 345678', 'GB')).toMatchObject({ ok: false, reason: 'number-type' }); // PERSONAL_NUMBER
      expect(checkDestination('+44 7640 123456', 'GB')).toMatchObject({ ok: false, reason: 'number-type' }); // PAGER
      expect(checkDestination('050-3123-4567', 'JP')).toEqual({ ok: true, e164: '+815031234567', country: 'JP' }); // VOIP
      expect(checkDestination('0300 123 4567', 'GB')).toMatchObject({ ok: true, country: 'GB' }); // UAN
      expect(checkDestination('0120-123-456', 'JP')).toMatchObject({ ok: true }); // TOLL_FREE
      expect(checkDestination('+1 415 555 2671', 'US')).toMatchObject({ ok: true }); // FIXED_LINE_OR_MOBILE
    });
    test('premium-rate numbers are refused even in allowed countries', () => {
      expect(checkDestination('+1 900 555 0123', 'US')).toMatchObject({ ok: false, reason: 'premium-rate' });
      expect(checkDestination('+81 990 123 456', 'JP')).toMatchObject({ ok: false, reason: 'premium-rate' });
      expect(checkDestination('+44 9090 901234', 'JP', ['GB', 'JP'])).toMatchObject({ ok: false, reason: 'premium-rate' });
    });
    test('shared-cost numbers are refused', () => {
      expect(checkDestination('+33 810 12 34 56', 'FR')).toMatchObject({ ok: false, reason: 'shared-cost' });
      expect(checkDestination('+48 801 234 567', 'JP', ['PL'])).toMatchObject({ ok: false, reason: 'shared-cost' });
    });
    test('invalid numbers are refused', () => {
      expect(checkDestination('+81 12', 'JP')).toMatchObject({ ok: false });
      expect(checkDestination('+32 78 12 34 56', 'JP', ['BE'])).toMatchObject({ ok: false, reason: 'invalid' });
    });
    test('default allow-list: the caller’s own country only', () => {
      expect(checkDestination('+1 415 555 2671', 'JP')).toMatchObject({ ok: false, reason: 'country-not-allowed', country: 'US' });
      expect(checkDestination('+44 20 7946 0000', 'JP')).toMatchObject({ ok: false, reason: 'country-not-allowed' });
    });
    test('configured allow-list replaces the default', () => {
      expect(checkDestination('+1 415 555 2671', 'JP', ['JP', 'US'])).toMatchObject({ ok: true, e164: '+14155552671' });
      expect(checkDestination('+81-90-5987-6543', 'JP', ['US'])).toMatchObject({ ok: false, reason: 'country-not-allowed' });
    });
    test('hostile input is unparsable, never a number', () => {
      expect(checkDestination('+8190</Number><Number>+1900', 'JP')).toEqual({ ok: false, reason: 'unparsable' });
    });
  });
});

describe('device secrets', () => {
  test('hash is salted, self-describing and verifies in both directions', async () => {
    const secret = generateDeviceSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateDeviceSecret()).not.toBe(secret);
    const a = await hashDeviceSecret(secret, TEST_SCRYPT);
    const b = await hashDeviceSecret(secret, TEST_SCRYPT);
    expect(a).not.toBe(b); // salted
    expect(a).toMatch(/^scrypt\$16\$1\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(a).not.toContain(secret);
    expect(hashParams(a)).toEqual(TEST_SCRYPT);
    await expect(verifyDeviceSecret(secret, a)).resolves.toBe(true);
    await expect(verifyDeviceSecret(`${secret}x`, a)).resolves.toBe(false);
    await expect(verifyDeviceSecret('', a)).resolves.toBe(false);
  });

  test('production default cost is a real slow hash', async () => {
    expect(DEFAULT_SCRYPT_PARAMS.N).toBeGreaterThanOrEqual(2 ** 15);
    const h = await hashDeviceSecret('s', DEFAULT_SCRYPT_PARAMS);
    expect(h.startsWith(`scrypt$${2 ** 15}$8$1$`)).toBe(true);
    await expect(verifyDeviceSecret('s', h)).resolves.toBe(true);
  });

  test('malformed or abusive hashes verify false without throwing', async () => {
    for (const bad of [
      '',
      'plain',
      'scrypt$16$1$1$x',
      'scrypt$3$1$1$AAAAAAAAAAA$AAAA',
      `scrypt$${2 ** 24}$8$1$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`,
      // just past each cap (SCRYPT_LIMITS: N ≤ 2^16, r ≤ 8, p ≤ 2)
      `scrypt$${2 ** 17}$8$1$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`,
      `scrypt$${2 ** 16}$9$1$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`,
      `scrypt$${2 ** 16}$8$3$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`,
      'bcrypt$1$1$1$a$b',
    ]) {
      await expect(verifyDeviceSecret('secret', bad)).resolves.toBe(false);
    }
  });
});

describe('access token', () => {
  test('Access Token with VoiceGrant, verified with the API key secret', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { token, expiresAt } = createVoiceAccessToken(TEST_CREDENTIALS, 'DeviceId_0001', 1234);
    const decoded = jwt.verify(token, TEST_CREDENTIALS.apiKeySecret, { algorithms: ['HS256'], complete: true }) as jwt.Jwt;
    expect(decoded.header).toMatchObject({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' });
    const p = decoded.payload as jwt.JwtPayload & {
      grants: { identity: string; voice: { incoming: { allow: boolean }; outgoing: { application_sid: string } } };
    };
    expect(p.iss).toBe(TEST_CREDENTIALS.apiKeySid);
    expect(p.sub).toBe(TEST_CREDENTIALS.accountSid);
    expect(p.grants.identity).toBe('DeviceId_0001');
    expect(p.grants.voice.incoming.allow).toBe(true);
    expect(p.grants.voice.outgoing.application_sid).toBe(TEST_CREDENTIALS.twimlAppSid);
    expect(p.exp! - p.iat!).toBe(1234);
    expect(p.iat!).toBeGreaterThanOrEqual(before);
    expect(expiresAt.getTime()).toBe(p.exp! * 1000);
    expect(() => jwt.verify(token, 'another-secret')).toThrow();
  });
});

describe('twiml', () => {
  const BASE = 'https://api.example.com/prod';
  /** The walkthrough's call (+819059876543 calling the line +815031234567), its URLs under BASE. */
  const flow = (caller = '+819059876543', line = '+815031234567'): FlowContext => ({
    caller,
    line,
    callTimeLimitSeconds: 14400,
    urls: {
      action: (stage) =>
        `${BASE}/action?${new URLSearchParams(stage.stage === 'ring' ? { stage: 'ring', next: String(stage.next) } : { stage: stage.stage })}`,
      screen: `${BASE}/screen`,
      recordingStatus: `${BASE}/recording`,
      memberStatus: `${BASE}/status?leg=member`,
      forwardStatus: `${BASE}/status?leg=forward`,
    },
  });
  /** A leg's status callback attributes, as rendered. */
  const legStatus = (url: string) =>
    `statusCallback="${url.replace(/&/g, '&amp;')}" statusCallbackMethod="POST" statusCallbackEvent="initiated ringing answered completed"`;

  test('incoming: the walkthrough output plus answerOnBridge, each line member a Client with the caller and the line, and an action webhook', () => {
    expect(flowStepTwiml({ kind: 'ring', clients: ['DeviceId_0001'], timeout: 20, after: { stage: 'ring', next: 1 } }, flow())).toBe(
      `${XML_DECL}<Response><Dial timeout="20" answerOnBridge="true" action="${BASE}/action?stage=ring&amp;next=1" method="POST">` +
        `<Client ${legStatus(`${BASE}/status?leg=member`)}><Identity>DeviceId_0001</Identity><Parameter name="callerNumber" value="+819059876543"/><Parameter name="lineNumber" value="+815031234567"/></Client>` +
        '</Dial></Response>',
    );
    const two = flowStepTwiml({ kind: 'ring', clients: ['A', 'B'], timeout: 30, after: { stage: 'ring', next: 2 } }, flow());
    expect(two.match(/<Client /g)).toHaveLength(2);
    expect(two).toMatch(/<Dial timeout="30" [^>]*><Client [^>]*><Identity>A<\/Identity>.*<\/Client><Client [^>]*><Identity>B<\/Identity>/);
  });
  test('internal call: the teammate’s Client, with the caller’s identity and the line, capped at the call time limit', () => {
    expect(dialTeammateTwiml('DeviceId_0001', '+815031234567', 'DeviceId_0002', 600, `${BASE}/status?leg=callee`)).toBe(
      `${XML_DECL}<Response><Dial timeout="60" answerOnBridge="true" timeLimit="600"><Client ${legStatus(`${BASE}/status?leg=callee`)}><Identity>DeviceId_0002</Identity>` +
        '<Parameter name="callerNumber" value="client:DeviceId_0001"/><Parameter name="lineNumber" value="+815031234567"/></Client></Dial></Response>',
    );
  });
  test('outgoing: the walkthrough output in E.164, capped at the call time limit, the dialled leg reporting to the call log', () => {
    const status = `${BASE}/status?leg=callee&line=%2B815031234567`;
    expect(dialNumberTwiml('+815031234567', '+819059876543', 14400, status)).toBe(
      `${XML_DECL}<Response><Dial timeout="60" callerId="+815031234567" timeLimit="14400"><Number ${legStatus(status)}>+819059876543</Number></Dial></Response>`,
    );
    expect(dialNumberTwiml('+815031234567', '+819059876543', 600, status)).toBe(
      `${XML_DECL}<Response><Dial timeout="60" callerId="+815031234567" timeLimit="600"><Number ${legStatus(status)}>+819059876543</Number></Dial></Response>`,
    );
  });
  test('say once, then hang up (no loop="0")', () => {
    const x = sayAndHangupTwiml('Nope.');
    expect(x).toBe(`${XML_DECL}<Response><Say language="en-US">Nope.</Say><Hangup/></Response>`);
    expect(x).not.toContain('loop');
    expect(temporarilyUnavailableTwiml()).toMatch(/<Say language="en-US">[^<]*temporarily unavailable[^<]*<\/Say><Hangup\/><\/Response>$/);
  });
  test('hostile text is escaped, never markup', () => {
    const hostile = '+8190</Number><Number>+1900" a="b';
    const x = sayAndHangupTwiml(hostile);
    expect(x).not.toContain('</Number><Number>');
    expect(x).toContain('&lt;/Number&gt;&lt;Number&gt;');
    const y = dialNumberTwiml('+815031234567"/><Hangup a="', hostile, 14400, `${BASE}/status`);
    expect(y.match(/<Number /g)).toHaveLength(1);
    expect(y).not.toContain('<Hangup');
    // the caller's number (Twilio's From) rides in a Parameter attribute: escaped too
    const z = flowStepTwiml({ kind: 'ring', clients: ['DeviceId_0001'], timeout: 20, after: { stage: 'ring', next: 1 } }, flow(hostile));
    expect(z.match(/<Parameter /g)).toHaveLength(2);
    expect(z.match(/<Client /g)).toHaveLength(1);
    expect(z).not.toContain('<Number>');
    expect(z).toContain('value="+8190&lt;/Number>&lt;Number>+1900&quot; a=&quot;b"'); // `>` needs no escape in an attribute
  });
});

describe('webhook', () => {
  // Twilio's published example (security docs / helper library snippets).
  const VECTOR = {
    authToken: '12345',
    url: 'https://mycompany.com/myapp.php?foo=1&bar=2',
    params: { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' },
    signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
  };

  test('accepts Twilio’s published test vector', () => {
    expect(isValidTwilioSignature(VECTOR.authToken, VECTOR.signature, VECTOR.url, VECTOR.params)).toBe(true);
  });
  test('refuses tampering with the vector', () => {
    expect(isValidTwilioSignature('54321', VECTOR.signature, VECTOR.url, VECTOR.params)).toBe(false);
    expect(isValidTwilioSignature(VECTOR.authToken, VECTOR.signature, VECTOR.url.replace('foo=1', 'foo=2'), VECTOR.params)).toBe(false);
    expect(isValidTwilioSignature(VECTOR.authToken, VECTOR.signature, VECTOR.url, { ...VECTOR.params, To: '+19005550123' })).toBe(false);
    expect(isValidTwilioSignature(VECTOR.authToken, VECTOR.signature, VECTOR.url, { ...VECTOR.params, Extra: '' })).toBe(false);
    expect(isValidTwilioSignature(VECTOR.authToken, '', VECTOR.url, VECTOR.params)).toBe(false);
    expect(isValidTwilioSignature(VECTOR.authToken, VECTOR.signature, 'not a url', VECTOR.params)).toBe(false);
  });

  test('public URL: PUBLIC_BASE_URL + resourcePath, else scheme://domainName + path', () => {
    const ev = {
      domainName: 'abc.execute-api.us-east-1.amazonaws.com',
      path: '/prod/twilio/retrieve_twiml/call_incoming',
      resourcePath: '/twilio/retrieve_twiml/call_incoming',
    };
    expect(publicWebhookUrl(ev, { webhookScheme: 'https' })).toBe(
      'https://abc.execute-api.us-east-1.amazonaws.com/prod/twilio/retrieve_twiml/call_incoming',
    );
    expect(publicWebhookUrl({ ...ev, domainName: '127.0.0.1:3000' }, { webhookScheme: 'http' })).toBe(
      'http://127.0.0.1:3000/prod/twilio/retrieve_twiml/call_incoming',
    );
    expect(publicWebhookUrl(ev, { webhookScheme: 'https', publicBaseUrl: 'https://voice.example.com/prod' })).toBe(
      'https://voice.example.com/prod/twilio/retrieve_twiml/call_incoming',
    );
  });

  test('parseWebhookEvent', () => {
    expect(
      parseWebhookEvent({ params: { To: '+1' }, query: { line: 'sales' }, signature: 's', domainName: 'd', path: '/p', resourcePath: '/r' }),
    ).toMatchObject({
      params: { To: '+1' },
      query: { line: 'sales' },
      signature: 's',
    });
    // an event without a query (as rendered before the template passed one) has an empty one
    expect(parseWebhookEvent({ params: { To: '+1' } })).toMatchObject({ query: {}, signature: '', domainName: '' });
    for (const bad of [null, 'x', [], {}, { params: [] }, { params: { To: 1 } }, { params: {}, query: [] }, { params: {}, query: { a: 1 } }])
      expect(parseWebhookEvent(bad)).toBeUndefined();
  });
});

describe('config', () => {
  test('defaults', () => {
    expect(loadConfig({})).toEqual({
      tokenTtlSeconds: 3600,
      webhookScheme: 'https',
      validateWebhookSignatures: true,
      callTimeLimitSeconds: 14400,
      voicemailRetentionDays: 30,
      callLogRetentionDays: 90,
      maxCallsPerDevice: 2,
      maxCallsPerLine: 10,
    });
  });
  test('values', () => {
    expect(
      loadConfig({
        TOKEN_TTL_SECONDS: '86400',
        PUBLIC_BASE_URL: 'https://voice.example.com/prod/',
        WEBHOOK_SIGNATURE_VALIDATION: 'off',
        ALLOWED_DESTINATION_COUNTRIES: 'jp, US',
        WEBHOOK_SCHEME: 'http',
        CALL_TIME_LIMIT_SECONDS: '600',
        VOICEMAIL_RETENTION_DAYS: '7',
        CALL_LOG_RETENTION_DAYS: '365',
        MAX_CALLS_PER_DEVICE: '1',
        MAX_CALLS_PER_LINE: '3',
        SOFTPHONE_URL: 'https://phone.example.com',
      }),
    ).toEqual({
      tokenTtlSeconds: 86400,
      publicBaseUrl: 'https://voice.example.com/prod',
      webhookScheme: 'http',
      validateWebhookSignatures: false,
      allowedDestinationCountries: ['JP', 'US'],
      callTimeLimitSeconds: 600,
      voicemailRetentionDays: 7,
      callLogRetentionDays: 365,
      maxCallsPerDevice: 1,
      maxCallsPerLine: 3,
      softphoneUrl: 'https://phone.example.com',
    });
  });
  test.each([
    [{ TOKEN_TTL_SECONDS: '86401' }, /TOKEN_TTL_SECONDS/],
    [{ TOKEN_TTL_SECONDS: '59' }, /TOKEN_TTL_SECONDS/],
    [{ TOKEN_TTL_SECONDS: '1h' }, /TOKEN_TTL_SECONDS/],
    [{ WEBHOOK_SIGNATURE_VALIDATION: 'maybe' }, /WEBHOOK_SIGNATURE_VALIDATION/],
    [{ PUBLIC_BASE_URL: 'voice.example.com' }, /PUBLIC_BASE_URL/],
    [{ ALLOWED_DESTINATION_COUNTRIES: 'JPN' }, /ALLOWED_DESTINATION_COUNTRIES/],
    [{ CALL_TIME_LIMIT_SECONDS: '59' }, /CALL_TIME_LIMIT_SECONDS/],
    [{ CALL_TIME_LIMIT_SECONDS: '14401' }, /CALL_TIME_LIMIT_SECONDS/],
    [{ CALL_TIME_LIMIT_SECONDS: '4h' }, /CALL_TIME_LIMIT_SECONDS/],
    [{ VOICEMAIL_RETENTION_DAYS: '0' }, /VOICEMAIL_RETENTION_DAYS/],
    [{ VOICEMAIL_RETENTION_DAYS: '3651' }, /VOICEMAIL_RETENTION_DAYS/],
    [{ SOFTPHONE_URL: 'phone.example.com' }, /SOFTPHONE_URL/],
    [{ CALL_LOG_RETENTION_DAYS: '0' }, /CALL_LOG_RETENTION_DAYS/],
    [{ CALL_LOG_RETENTION_DAYS: '3651' }, /CALL_LOG_RETENTION_DAYS/],
    [{ MAX_CALLS_PER_DEVICE: '0' }, /MAX_CALLS_PER_DEVICE/],
    [{ MAX_CALLS_PER_DEVICE: '11' }, /MAX_CALLS_PER_DEVICE/],
    [{ MAX_CALLS_PER_LINE: '0' }, /MAX_CALLS_PER_LINE/],
    [{ MAX_CALLS_PER_LINE: 'many' }, /MAX_CALLS_PER_LINE/],
  ])('refuses %j', (env, re) => {
    expect(() => loadConfig(env)).toThrow(re);
  });
});

describe('http errors', () => {
  test('the [status] json convention', () => {
    const e = tokenError(403, 'Unknown phone number or wrong device secret.');
    expect(e.message).toBe('[403] {"success":false,"capabilityToken":null,"error":"Unknown phone number or wrong device secret."}');
    expect(e.message.substring(6)).toBe(e.body);
    expect(parseHttpErrorMessage(e.message)).toEqual({ status: 403, body: e.body });
    expect(forbidden().message).toBe('[403] Forbidden');
    expect(tokenError(429, 'x', { retryAfterSeconds: 5 }).body).toBe('{"success":false,"capabilityToken":null,"error":"x","retryAfterSeconds":5}');
  });
});
