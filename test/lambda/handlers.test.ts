/**
 * The token, incoming-call and outgoing-call handler factories end to end over a real dynalite registry; only the
 * Twilio cloud is absent.
 */
import jwt from 'jsonwebtoken';
import { createIncomingCallHandler } from '../../lambda/handlers/incoming-call';
import { createOutgoingCallHandler, OUTGOING_MESSAGES } from '../../lambda/handlers/outgoing-call';
import { createTokenHandler, FORBIDDEN_MESSAGE } from '../../lambda/handlers/token';
import { useDynalite } from '../support/dynalite';
import {
  API_DOMAIN,
  DEVICE_CLIENT,
  DEVICE_NUMBER,
  DEVICE_NUMBER_TYPED,
  DEVICE_SECRET,
  INCOMING_RESOURCE,
  INCOMING_TWIML,
  legStatusAttributes,
  OUTGOING_TWIML,
  outgoingTwiml,
  incomingCallParams,
  incomingTwiml,
  OUTGOING_RESOURCE,
  outgoingCallParams,
  signedEvent,
  TEST_CREDENTIALS,
  TOKEN_BODY,
} from '../support/fixtures';
import { callable, expectThrown, makeDeps, RecordingLog, registerDevice, TEST_SCRYPT, testConfig } from './helpers';

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>';
const hangup = (msg: string) => `${XML_DECL}<Response><Say language="en-US">${msg}</Say><Hangup/></Response>`;

// Every test gets fresh tables holding the walkthrough's device (line +815031234567 → DeviceId_0001) and a US one.
const db = useDynalite({
  seed: async ({ lines }) => {
    await registerDevice(lines);
    await registerDevice(lines, { phoneNumber: '+14155550100', clientName: 'DeviceId_US', secret: 'us-secret' });
  },
});

/** A second device on the walkthrough's line (added after it: it rings second). */
const addTeammate = () => registerDevice(db.lines, { clientName: 'DeviceId_0002', secret: 'teammate-secret', createdAt: '2024-01-02T00:00:00.000Z' });

const tokenHandler = (overrides = {}) => callable(createTokenHandler(makeDeps(db, overrides), { dummyScryptParams: TEST_SCRYPT }));

describe('token API', () => {
  test('walkthrough input (with its hyphenated number) plus the device secret → Access Token', async () => {
    const res = await tokenHandler()({ twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET });
    expect(res).toEqual({
      success: true,
      capabilityToken: expect.any(String),
      identity: DEVICE_CLIENT,
      line: DEVICE_NUMBER,
      expiresAt: expect.any(String),
    });
    const p = jwt.verify(res.capabilityToken, TEST_CREDENTIALS.apiKeySecret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(p.grants.identity).toBe(DEVICE_CLIENT);
    expect(p.grants.voice).toEqual({ incoming: { allow: true }, outgoing: { application_sid: TEST_CREDENTIALS.twimlAppSid } });
    expect(p.exp! - p.iat!).toBe(3600);
    expect(new Date(res.expiresAt).getTime()).toBe(p.exp! * 1000);
    expect(res.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test.each(['+81 50 3123 4567', '+81 (50) 3123-4567', '+815031234567'])('accepts the number as %j', async (n) => {
    await expect(tokenHandler()({ twilioPhoneNumber: n, deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({ identity: DEVICE_CLIENT });
  });

  test('TTL is configurable', async () => {
    const res = await tokenHandler({ config: testConfig({ tokenTtlSeconds: 86400 }) })({
      twilioPhoneNumber: DEVICE_NUMBER,
      deviceSecret: DEVICE_SECRET,
    });
    const p = jwt.verify(res.capabilityToken, TEST_CREDENTIALS.apiKeySecret) as jwt.JwtPayload;
    expect(p.exp! - p.iat!).toBe(86400);
  });

  test('the walkthrough’s phone-number-only request is refused (400: a secret is required)', async () => {
    const e = await expectThrown(() => tokenHandler()(JSON.parse(TOKEN_BODY)));
    expect(e.status).toBe(400);
    expect(JSON.parse(e.body)).toEqual({ success: false, capabilityToken: null, error: expect.stringMatching(/deviceSecret/) });
  });

  test.each([
    ['not an object', 'hello'],
    ['null', null],
    ['array', []],
    ['missing number', { deviceSecret: 'x' }],
    ['number not a string', { twilioPhoneNumber: 815031234567, deviceSecret: 'x' }],
    ['secret not a string', { twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 1 }],
    ['unparsable number', { twilioPhoneNumber: 'call me', deviceSecret: 'x' }],
    ['national number without country', { twilioPhoneNumber: '050-3123-4567', deviceSecret: 'x' }],
    ['oversized secret', { twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'x'.repeat(10_000) }],
  ])('400 for %s', async (_name, event) => {
    const e = await expectThrown(() => tokenHandler()(event));
    expect(e.status).toBe(400);
    expect(JSON.parse(e.body)).toMatchObject({ success: false, capabilityToken: null, error: expect.any(String) });
  });

  test('403 with the same message for an unknown number and a wrong secret (no enumeration)', async () => {
    const h = tokenHandler();
    const unknown = await expectThrown(() => h({ twilioPhoneNumber: '+815099998888', deviceSecret: DEVICE_SECRET }));
    const wrong = await expectThrown(() => h({ twilioPhoneNumber: '+14155550100', deviceSecret: 'not-the-secret' }));
    expect(unknown.message).toBe(`[403] {"success":false,"capabilityToken":null,"error":"${FORBIDDEN_MESSAGE}"}`);
    expect(wrong.message).toBe(unknown.message);
  });

  test('each device of a line signs in with the line’s number and its own secret, as its own identity', async () => {
    await addTeammate();
    const h = tokenHandler();
    await expect(h({ twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET })).resolves.toMatchObject({
      identity: DEVICE_CLIENT,
      line: DEVICE_NUMBER,
    });
    const teammate = await h({ twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: 'teammate-secret' });
    expect(teammate).toMatchObject({ identity: 'DeviceId_0002', line: DEVICE_NUMBER });
    const p = jwt.verify(teammate.capabilityToken, TEST_CREDENTIALS.apiKeySecret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(p.grants.identity).toBe('DeviceId_0002');
    // the clientName hint only orders the checks: the secret decides who signs in
    await expect(h({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'teammate-secret', clientName: DEVICE_CLIENT })).resolves.toMatchObject({
      identity: 'DeviceId_0002',
    });
    await expect(h({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET, clientName: 'DeviceId_US' })).resolves.toMatchObject({
      identity: DEVICE_CLIENT,
    });
    // another line's secret, or a hint naming another line's device, signs nobody in
    const wrong = await expectThrown(() => h({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'us-secret', clientName: 'DeviceId_US' }));
    expect(wrong.message).toBe(`[403] {"success":false,"capabilityToken":null,"error":"${FORBIDDEN_MESSAGE}"}`);
  });

  test('logs never contain the device secret, the token or credentials', async () => {
    const log = new RecordingLog();
    const result = await callable(
      createTokenHandler(makeDeps(db), { dummyScryptParams: TEST_SCRYPT }),
      log,
    )({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET });
    const output = log.text;
    expect(output).toContain('token issued');
    for (const s of [
      DEVICE_SECRET,
      (result as { capabilityToken: string }).capabilityToken,
      TEST_CREDENTIALS.apiKeySecret,
      TEST_CREDENTIALS.authToken,
    ])
      expect(output).not.toContain(s);
  });
});

describe('incoming call TwiML', () => {
  const walkthroughParams = incomingCallParams();
  const handler = (overrides = {}) => callable(createIncomingCallHandler(makeDeps(db, overrides)));

  test('walkthrough input → ring the line’s client for the ring time, with answerOnBridge, the caller and the line, and an action webhook', async () => {
    await expect(handler()(signedEvent(INCOMING_RESOURCE, walkthroughParams))).resolves.toBe(
      `${XML_DECL}<Response><Dial timeout="20" answerOnBridge="true" action="https://abc123.execute-api.ap-northeast-1.amazonaws.com/prod/twilio/retrieve_twiml/call_action?stage=ring&amp;next=1" method="POST">` +
        `<Client ${legStatusAttributes(`https://${API_DOMAIN}/prod`, 'leg=member&amp;line=%2B815031234567&amp;caller=%2B819059876543')}>` +
        '<Identity>DeviceId_0001</Identity><Parameter name="callerNumber" value="+819059876543"/><Parameter name="lineNumber" value="+815031234567"/></Client>' +
        '</Dial></Response>',
    );
    expect(INCOMING_TWIML).toBe(await handler()(signedEvent(INCOMING_RESOURCE, walkthroughParams)));
  });

  test('a line with several devices rings them all at once, in the order they were added', async () => {
    await addTeammate();
    await expect(handler()(signedEvent(INCOMING_RESOURCE, walkthroughParams))).resolves.toBe(
      incomingTwiml(undefined, { clients: [DEVICE_CLIENT, 'DeviceId_0002'] }),
    );
    // another line's device never rings for this number
    await expect(handler()(signedEvent(INCOMING_RESOURCE, walkthroughParams))).resolves.not.toContain('DeviceId_US');
  });

  test('unknown number: said once, then Hangup (no loop="0")', async () => {
    const out = await handler()(signedEvent(INCOMING_RESOURCE, { ...walkthroughParams, To: '+815099998888' }));
    expect(out).toBe(hangup('An error occurred. Your Twilio phone number +815099998888 is invalid.'));
  });

  test('To must be E.164, as Twilio sends it (a SIP address or a formatted number is not looked up)', async () => {
    for (const To of ['sip:alice@example.com', '+81-50-3123-4567', '815031234567', '']) {
      const out = await handler()(signedEvent(INCOMING_RESOURCE, { ...walkthroughParams, To }));
      expect([To, out]).toEqual([To, hangup('An error occurred. The called Twilio phone number is invalid.')]);
    }
  });

  test('hostile To never becomes markup', async () => {
    const out = await handler()(signedEvent(INCOMING_RESOURCE, { ...walkthroughParams, To: '+8190</Number><Number>+1900' }));
    expect(out).toBe(hangup('An error occurred. The called Twilio phone number is invalid.'));
  });

  test('missing or wrong signature → [403] Forbidden, no TwiML', async () => {
    const good = signedEvent(INCOMING_RESOURCE, walkthroughParams);
    for (const ev of [
      { ...good, signature: '' },
      { ...good, signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
      signedEvent(INCOMING_RESOURCE, walkthroughParams, { authToken: 'another-token' }),
      { ...good, params: { ...good.params, To: '+14155550100' } }, // tampered parameters
      { ...good, domainName: 'evil.example.com' }, // signed for another URL
      { ...good, query: { line: 'sales' } }, // a query string added after signing: another URL
      { ...signedEvent(INCOMING_RESOURCE, walkthroughParams, { query: { line: 'sales' } }), query: {} }, // signed with a query, sent without
    ]) {
      await expect(handler()(ev)).rejects.toThrow(/^\[403\] Forbidden$/);
    }
    await expect(handler()({ not: 'an event' })).rejects.toThrow(/^\[403\] Forbidden$/);
  });

  test('a webhook URL with a query string: Twilio signs the URL with it, and so it is checked', async () => {
    const ev = signedEvent(INCOMING_RESOURCE, walkthroughParams, { query: { line: 'sales' } });
    await expect(handler()(ev)).resolves.toBe(INCOMING_TWIML);
  });

  test('PUBLIC_BASE_URL: signed for the custom domain URL', async () => {
    const config = testConfig({ publicBaseUrl: 'https://voice.example.com/prod' });
    const ev = signedEvent(INCOMING_RESOURCE, walkthroughParams, { url: `https://voice.example.com/prod${INCOMING_RESOURCE}` });
    // the action webhook is at the custom domain too: where Twilio will call, and sign
    await expect(handler({ config })(ev)).resolves.toBe(incomingTwiml('https://voice.example.com/prod'));
    await expect(handler({ config })(signedEvent(INCOMING_RESOURCE, walkthroughParams))).rejects.toThrow('[403]');
  });

  test('local http scheme', async () => {
    const config = testConfig({ webhookScheme: 'http' });
    const ev = {
      ...signedEvent(INCOMING_RESOURCE, walkthroughParams, { url: `http://127.0.0.1:8080/prod${INCOMING_RESOURCE}` }),
      domainName: '127.0.0.1:8080',
    };
    await expect(handler({ config })(ev)).resolves.toBe(incomingTwiml('http://127.0.0.1:8080/prod'));
  });

  test('validation can be switched off explicitly (and only then)', async () => {
    const ev = { ...signedEvent(INCOMING_RESOURCE, walkthroughParams), signature: '' };
    await expect(handler()(ev)).rejects.toThrow('[403]');
    await expect(handler({ config: testConfig({ validateWebhookSignatures: false }) })(ev)).resolves.toContain('<Client ');
  });
});

describe('outgoing call TwiML', () => {
  const walkthroughParams = outgoingCallParams();
  const handler = (overrides = {}) => callable(createOutgoingCallHandler(makeDeps(db, overrides)));
  const call = (params: Record<string, string>, overrides = {}) => handler(overrides)(signedEvent(OUTGOING_RESOURCE, params));

  test('walkthrough input → dial in E.164 with the identity’s own number as caller ID, capped at the call time limit', async () => {
    const status = legStatusAttributes(`https://${API_DOMAIN}/prod`, 'leg=callee&amp;line=%2B815031234567&amp;client=DeviceId_0001');
    await expect(call(walkthroughParams)).resolves.toBe(
      `${XML_DECL}<Response><Dial timeout="60" callerId="+815031234567" timeLimit="14400"><Number ${status}>+819059876543</Number></Dial></Response>`,
    );
    await expect(call(walkthroughParams, { config: testConfig({ callTimeLimitSeconds: 600 }) })).resolves.toBe(
      `${XML_DECL}<Response><Dial timeout="60" callerId="+815031234567" timeLimit="600"><Number ${status}>+819059876543</Number></Dial></Response>`,
    );
    expect(OUTGOING_TWIML).toBe(await call(walkthroughParams));
  });

  test('callerPhoneNumber is optional; national destinations are read in the caller’s country', async () => {
    const { callerPhoneNumber: _omit, ...rest } = walkthroughParams;
    void _omit;
    await expect(call({ ...rest, callOutgoingPhoneNumber: '090-5987-6543' })).resolves.toContain('>+819059876543</Number>');
    await expect(call({ ...walkthroughParams, callerPhoneNumber: '050-3123-4567' })).resolves.toContain('callerId="+815031234567"');
  });

  test('caller-ID spoofing is refused', async () => {
    await expect(call({ ...walkthroughParams, callerPhoneNumber: '+1 415 555 0100' })).resolves.toBe(hangup(OUTGOING_MESSAGES.callerIdRefused));
    await expect(call({ ...walkthroughParams, callerPhoneNumber: 'garbage' })).resolves.toBe(hangup(OUTGOING_MESSAGES.callerIdRefused));
  });

  test('unknown or malformed identities are refused', async () => {
    await expect(call({ ...walkthroughParams, From: 'client:Nobody' })).resolves.toBe(hangup(OUTGOING_MESSAGES.unknownCaller));
    await expect(call({ ...walkthroughParams, From: '+819059876543' })).resolves.toBe(hangup(OUTGOING_MESSAGES.unknownCaller));
    await expect(call({ ...walkthroughParams, From: 'client:<Dial>' })).resolves.toBe(hangup(OUTGOING_MESSAGES.unknownCaller));
  });

  test('toll fraud: premium-rate, shared-cost, special-rate, invalid and foreign destinations are refused', async () => {
    await expect(call({ ...walkthroughParams, callOutgoingPhoneNumber: '+81 990 123 456' })).resolves.toBe(hangup(OUTGOING_MESSAGES.premiumRate));
    await expect(
      call(
        { ...walkthroughParams, callOutgoingPhoneNumber: '+1 900 555 0123' },
        { config: testConfig({ allowedDestinationCountries: ['JP', 'US'] }) },
      ),
    ).resolves.toBe(hangup(OUTGOING_MESSAGES.premiumRate));
    await expect(
      call({ ...walkthroughParams, callOutgoingPhoneNumber: '+33 810 12 34 56' }, { config: testConfig({ allowedDestinationCountries: ['FR'] }) }),
    ).resolves.toBe(hangup(OUTGOING_MESSAGES.sharedCost));
    // typed UAN by libphonenumber, but Navi Dial's caller pays the service's rate (lambda/core/special-rates.ts)
    await expect(call({ ...walkthroughParams, callOutgoingPhoneNumber: '0570-123-456' })).resolves.toBe(hangup(OUTGOING_MESSAGES.specialRate));
    await expect(call({ ...walkthroughParams, callOutgoingPhoneNumber: '+81 12' })).resolves.toBe(hangup(OUTGOING_MESSAGES.invalidDestination));
    await expect(
      call({ ...walkthroughParams, callOutgoingPhoneNumber: '+44 7012 345678' }, { config: testConfig({ allowedDestinationCountries: ['GB'] }) }),
    ).resolves.toBe(hangup(OUTGOING_MESSAGES.numberType));
    await expect(call({ ...walkthroughParams, callOutgoingPhoneNumber: '+44 20 7946 0000' })).resolves.toBe(
      hangup(OUTGOING_MESSAGES.countryNotAllowed),
    );
    await expect(call({ ...walkthroughParams, callOutgoingPhoneNumber: '' })).resolves.toBe(hangup(OUTGOING_MESSAGES.noDestination));
  });

  test('emergency numbers are refused with their own message, not as invalid', async () => {
    await expect(call({ ...walkthroughParams, callOutgoingPhoneNumber: '119' })).resolves.toBe(hangup(OUTGOING_MESSAGES.emergency));
  });

  test('allow-list: a US caller may call the US by default; JP+US configured lets JP call the US', async () => {
    await expect(
      call({ ...walkthroughParams, From: 'client:DeviceId_US', callerPhoneNumber: '', callOutgoingPhoneNumber: '(415) 555-2671' }),
    ).resolves.toMatch(/callerId="\+14155550100" timeLimit="14400"><Number [^>]*>\+14155552671<\/Number>/);
    await expect(
      call(
        { ...walkthroughParams, callOutgoingPhoneNumber: '+1 415 555 2671' },
        { config: testConfig({ allowedDestinationCountries: ['JP', 'US'] }) },
      ),
    ).resolves.toContain('>+14155552671</Number>');
  });

  test('hostile input never becomes markup', async () => {
    const out = await call({
      ...walkthroughParams,
      callOutgoingPhoneNumber: '+8190</Number><Number>+1900',
      callerPhoneNumber: '+815031234567"><Number>+1900',
    });
    expect(out).not.toContain('<Number');
    expect(out.match(/<Hangup\/>/g)).toHaveLength(1);
  });

  test('internal call: a teammate on the caller’s own line is dialled by client name, with the caller and the line', async () => {
    await addTeammate();
    const internal = { ...walkthroughParams, callerPhoneNumber: '', callOutgoingPhoneNumber: '', callOutgoingClient: 'DeviceId_0002' };
    await expect(call(internal)).resolves.toBe(
      `${XML_DECL}<Response><Dial timeout="60" answerOnBridge="true" timeLimit="14400"><Client ${legStatusAttributes(`https://${API_DOMAIN}/prod`, 'leg=callee&amp;line=%2B815031234567&amp;client=DeviceId_0001')}><Identity>DeviceId_0002</Identity>` +
        '<Parameter name="callerNumber" value="client:DeviceId_0001"/><Parameter name="lineNumber" value="+815031234567"/></Client></Dial></Response>',
    );
    // another line's device, an unknown name, a malformed one, or oneself: refused, nothing dialled
    for (const callOutgoingClient of ['DeviceId_US', 'Nobody', '<Client>x', 'DeviceId_0001']) {
      await expect(call({ ...internal, callOutgoingClient })).resolves.toBe(hangup(OUTGOING_MESSAGES.notATeammate));
    }
    // the teammate calls back the same way
    await expect(call({ ...internal, From: 'client:DeviceId_0002', callOutgoingClient: 'DeviceId_0001' })).resolves.toContain(
      '<Identity>DeviceId_0001</Identity>',
    );
  });

  test('every device of a line calls out with the line’s number as caller ID', async () => {
    await addTeammate();
    await expect(call({ ...walkthroughParams, From: 'client:DeviceId_0002' })).resolves.toBe(outgoingTwiml(undefined, { client: 'DeviceId_0002' }));
  });

  test('signature refused → [403] Forbidden', async () => {
    await expect(handler()({ ...signedEvent(OUTGOING_RESOURCE, walkthroughParams), signature: '' })).rejects.toThrow(/^\[403\] Forbidden$/);
    await expect(handler()(signedEvent(OUTGOING_RESOURCE, walkthroughParams, { authToken: 'wrong' }))).rejects.toThrow(/^\[403\] Forbidden$/);
  });
});
