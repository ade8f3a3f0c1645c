/**
 * Team lines, scenario by scenario, through the real local app over HTTP (issue 14): Twilio is played by
 * following the TwiML exactly as Twilio would — every URL a `<Dial action>`, `<Number url>`, `<Gather action>`,
 * `<Record action>` or `recordingStatusCallback` names is POSTed with Twilio's parameters, signed for that exact
 * URL with the account's Auth Token. Every answer is parsed and checked as TwiML (test/support/lines.ts).
 *
 * Paths: answered; no answer → forward accepted (press 1) → bridged; forward declined (another key, no key) →
 * voicemail; out of hours → straight to voicemail; busy; the caller hangs up while ringing; sequential ringing one
 * at a time; an internal call to a teammate (allowed) or to someone else (refused); each refusal answers valid
 * TwiML; a forward number the destination policy no longer allows is not dialled. Hours against a frozen clock
 * go through the handlers with `deps.clock` (the local app runs on the system clock).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NO_METRICS } from '../../lambda/adapters/recording-metrics';
import { staticCredentials } from '../../lambda/core/credentials';
import { DEFAULT_LINE_SETTINGS, type LineSettings } from '../../lambda/core/line';
import { API_PATHS } from '../../lambda/core/paths';
import { phrasesFor } from '../../lambda/core/phrases';
import { loadConfig } from '../../lambda/core/settings';
import { createCallActionHandler } from '../../lambda/handlers/call-action';
import { createIncomingCallHandler } from '../../lambda/handlers/incoming-call';
import { OUTGOING_MESSAGES } from '../../lambda/handlers/outgoing-call';
import { setLine } from '../../lib/devices/device-admin';
import { type LocalApp, type LocalAppOptions, startLocalApp } from '../../lib/local/app';
import { signedEvent, TEST_CREDENTIALS } from '../support/fixtures';
import {
  childElement,
  dialledClients,
  KeptLog,
  memberRecord,
  parseTwiml,
  postWebhook,
  TwilioCall,
  textOf,
  twilioSid,
  useLineRegistry,
  verbs,
  type WebhookAnswer,
  writeMinimalSite,
  type XmlElement,
} from '../support/lines';

const CALLER = '+819059876543';
const FORWARD = '+819012345678';
const AUTH = TEST_CREDENTIALS.authToken;

let dir: string;
let app: LocalApp;
let lineCounter = 0;

function options(extra: Partial<LocalAppOptions> = {}): LocalAppOptions {
  return {
    port: 0,
    registryPath: path.join(dir, 'registry'),
    credentials: TEST_CREDENTIALS,
    clientDir: path.join(dir, 'site'),
    env: {},
    log: () => undefined,
    ...extra,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-team-lines-'));
  await writeMinimalSite(path.join(dir, 'site'));
  app = await startLocalApp(options());
}, 60_000);
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A new line (its own number) with these members, in ring order, and these settings. */
async function newLine(members: string[], settings: Partial<LineSettings> = {}, target: LocalApp = app): Promise<string> {
  const number = `+8150312${String(4600 + ++lineCounter).padStart(4, '0')}`;
  for (const [i, name] of members.entries()) {
    await target.lines.put(
      await memberRecord(number, `${name}_${lineCounter}`, { createdAt: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString() }),
    );
  }
  await target.lines.putSettings(number, { ...DEFAULT_LINE_SETTINGS, ...settings });
  return number;
}
const member = (name: string) => `${name}_${lineCounter}`;

/** The call's parent-call webhooks, counted (the bound: members + 3). */
class CountedCall extends TwilioCall {
  webhooks = 0;
  override async incoming(url: string) {
    this.webhooks++;
    return super.incoming(url);
  }
  override async dialEnded(twiml: XmlElement, outcome: Parameters<TwilioCall['dialEnded']>[1]) {
    this.webhooks++;
    return super.dialEnded(twiml, outcome);
  }
  override async recorded(twiml: XmlElement, recordingSid: string, seconds: number, callStatus?: string) {
    this.webhooks++;
    return super.recorded(twiml, recordingSid, seconds, callStatus);
  }
}

const newCall = (line: string, target: LocalApp = app) => {
  const call = new CountedCall(AUTH, TEST_CREDENTIALS.accountSid, CALLER, line);
  return { call, ring: () => call.incoming(target.routeUrls.callIncoming) };
};

function ok(answer: WebhookAnswer): XmlElement {
  expect(answer.status).toBe(200);
  expect(answer.contentType).toBe('text/xml');
  return answer.twiml!;
}

const NO_ANSWER = { DialCallStatus: 'no-answer', DialBridged: 'false' } as const;

/** Asserts a voicemail step: the greeting, then `<Record>` whose action is the recorded stage. */
function expectVoicemail(twiml: XmlElement, greeting = phrasesFor('en-US').greeting) {
  expect(verbs(twiml)).toEqual(['Say', 'Record']);
  expect(textOf(childElement(twiml, 'Say'))).toBe(greeting);
  const record = childElement(twiml, 'Record');
  expect(new URL(record.attrs.action).searchParams.get('stage')).toBe('recorded');
}

async function leaveMessage(call: CountedCall, twiml: XmlElement) {
  const goodbye = ok(await call.recorded(twiml, twilioSid('RE'), 9));
  expect(verbs(goodbye)).toEqual(['Say', 'Hangup']);
  expect(textOf(childElement(goodbye, 'Say'))).toBe(phrasesFor('en-US').goodbye);
}

describe('a call to a line (simultaneous ringing)', () => {
  test('answered: every member rings at once with the caller and the line; DialCallStatus completed → hang up', async () => {
    const line = await newLine(['alice', 'bob', 'carol'], { ringSeconds: 25, forwardTo: FORWARD });
    const { call, ring } = newCall(line);
    const first = ok(await ring());
    expect(verbs(first)).toEqual(['Dial']);
    const dial = childElement(first, 'Dial');
    expect(dial.attrs).toEqual({
      timeout: '25',
      answerOnBridge: 'true',
      action: `${app.apiBaseUrl}${API_PATHS.callAction}?stage=ring&next=3`,
      method: 'POST',
    });
    expect(dialledClients(dial)).toEqual(
      ['alice', 'bob', 'carol'].map((n) => ({ identity: member(n), parameters: { callerNumber: CALLER, lineNumber: line } })),
    );
    const end = ok(
      await call.dialEnded(first, { DialCallStatus: 'completed', DialBridged: 'true', DialCallDuration: '42', CallStatus: 'completed' }),
    );
    expect(verbs(end)).toEqual(['Hangup']);
    // answered but the bridge reported while the caller is still on (DialCallStatus completed)
    const { call: second, ring: ringAgain } = newCall(line);
    expect(verbs(ok(await second.dialEnded(ok(await ringAgain()), { DialCallStatus: 'completed', DialBridged: 'true' })))).toEqual(['Hangup']);
    expect(call.webhooks).toBeLessThanOrEqual(3 + 3);
  });

  test('no answer → forward, accepted with 1: the person is screened, connected, and the call ends', async () => {
    const line = await newLine(['alice', 'bob'], { forwardTo: FORWARD });
    const { call, ring } = newCall(line);
    const forward = ok(await call.dialEnded(ok(await ring()), NO_ANSWER));
    expect(verbs(forward)).toEqual(['Dial']);
    const dial = childElement(forward, 'Dial');
    expect(dial.attrs).toMatchObject({
      callerId: line,
      timeLimit: '14400',
      timeout: '20',
      action: `${app.apiBaseUrl}${API_PATHS.callAction}?stage=forward`,
    });
    expect(textOf(childElement(dial, 'Number'))).toBe(FORWARD);

    // the forwarded phone answers: Twilio runs the <Number url> on that leg
    const { answer: promptAnswer, childSid, number } = await call.forwardAnswered(forward);
    const prompt = ok(promptAnswer);
    expect(verbs(prompt)).toEqual(['Gather', 'Hangup']);
    const gather = childElement(prompt, 'Gather');
    expect(gather.attrs).toMatchObject({ numDigits: '1', method: 'POST', actionOnEmptyResult: 'false' });
    expect(textOf(gather)).toBe(phrasesFor('en-US').screen(line, CALLER));
    expect(Object.fromEntries(new URL(gather.attrs.action).searchParams)).toEqual({ stage: 'answer', line });

    // 1: the whisper ends without hanging up, so Twilio bridges the caller
    const accepted = ok(await call.pressed(prompt, childSid, number, '1'));
    expect(verbs(accepted)).toEqual(['Say']);
    expect(textOf(childElement(accepted, 'Say'))).toBe(phrasesFor('en-US').screenAccepted);

    const end = ok(await call.dialEnded(forward, { DialCallStatus: 'completed', DialBridged: 'true', DialCallDuration: '120' }));
    expect(verbs(end)).toEqual(['Hangup']);
    expect(call.webhooks).toBe(3);
  });

  test.each([
    ['another key', '2'],
    ['the star key', '*'],
  ])('forward declined (%s) → the leg hangs up unbridged → voicemail, then goodbye', async (_, digits) => {
    const line = await newLine(['alice'], { forwardTo: FORWARD });
    const { call, ring } = newCall(line);
    const forward = ok(await call.dialEnded(ok(await ring()), NO_ANSWER));
    const { answer, childSid, number } = await call.forwardAnswered(forward);
    const declined = ok(await call.pressed(ok(answer), childSid, number, digits));
    expect(verbs(declined)).toEqual(['Hangup']);
    const voicemail = ok(await call.dialEnded(forward, { DialCallStatus: 'completed', DialBridged: 'false', DialCallDuration: '6' }));
    expectVoicemail(voicemail);
    await leaveMessage(call, voicemail);
    expect(call.webhooks).toBe(1 + 3);
  });

  test('forward not accepted (no key: the mobile’s own voicemail answered) → the prompt falls through to hang up → voicemail', async () => {
    const line = await newLine(['alice'], { forwardTo: FORWARD, greeting: 'Team Alpha here. Leave a message.' });
    const { call, ring } = newCall(line);
    const forward = ok(await call.dialEnded(ok(await ring()), NO_ANSWER));
    const prompt = ok((await call.forwardAnswered(forward)).answer);
    // Gather times out: actionOnEmptyResult=false, so Twilio goes on to the next verb
    expect(childElement(prompt, 'Gather').attrs.actionOnEmptyResult).toBe('false');
    expect(verbs(prompt).at(-1)).toBe('Hangup');
    expectVoicemail(ok(await call.dialEnded(forward, { DialCallStatus: 'completed', DialBridged: 'false' })), 'Team Alpha here. Leave a message.');
  });

  test('the forward number does not answer or is busy → voicemail', async () => {
    const line = await newLine(['alice'], { forwardTo: FORWARD });
    for (const status of ['no-answer', 'busy', 'failed']) {
      const { call, ring } = newCall(line);
      const forward = ok(await call.dialEnded(ok(await ring()), NO_ANSWER));
      expectVoicemail(ok(await call.dialEnded(forward, { DialCallStatus: status, DialBridged: 'false' })));
    }
  });

  test('busy (every member busy) → forward when set, else voicemail; without voicemail, the apology', async () => {
    const withForward = await newLine(['alice'], { forwardTo: FORWARD });
    let c = newCall(withForward);
    expect(
      textOf(
        childElement(
          childElement(ok(await c.call.dialEnded(ok(await c.ring()), { DialCallStatus: 'busy', DialBridged: 'false' })), 'Dial'),
          'Number',
        ),
      ),
    ).toBe(FORWARD);
    const plain = await newLine(['alice']);
    c = newCall(plain);
    expectVoicemail(ok(await c.call.dialEnded(ok(await c.ring()), { DialCallStatus: 'busy', DialBridged: 'false' })));
    const quiet = await newLine(['alice'], { voicemail: false, language: 'ja-JP' });
    c = newCall(quiet);
    const apology = ok(await c.call.dialEnded(ok(await c.ring()), { DialCallStatus: 'busy', DialBridged: 'false' }));
    expect(verbs(apology)).toEqual(['Say', 'Hangup']);
    expect(childElement(apology, 'Say').attrs.language).toBe('ja-JP');
    expect(textOf(childElement(apology, 'Say'))).toBe(phrasesFor('ja-JP').apology);
  });

  test.each(['completed', 'canceled'])(
    'the caller hangs up while it rings (CallStatus %s) → hang up: nothing forwarded, no voicemail',
    async (callStatus) => {
      const line = await newLine(['alice', 'bob'], { forwardTo: FORWARD });
      const { call, ring } = newCall(line);
      const end = ok(await call.dialEnded(ok(await ring()), { DialCallStatus: 'canceled', DialBridged: 'false', CallStatus: callStatus }));
      expect(verbs(end)).toEqual(['Hangup']);
      // and while the forward rings
      const again = newCall(line);
      const forward = ok(await again.call.dialEnded(ok(await again.ring()), NO_ANSWER));
      expect(verbs(ok(await again.call.dialEnded(forward, { DialCallStatus: 'no-answer', CallStatus: callStatus })))).toEqual(['Hangup']);
    },
  );

  test('a full line rings its ten devices in one <Dial> (Twilio’s most)', async () => {
    const line = await newLine(Array.from({ length: 10 }, (_, i) => `m${i}`));
    const { ring } = newCall(line);
    expect(dialledClients(childElement(ok(await ring()), 'Dial'))).toHaveLength(10);
  });

  test('a line whose devices were all removed still takes the call: forward, else voicemail', async () => {
    const line = await newLine(['alice'], { forwardTo: FORWARD });
    await app.lines.remove(member('alice'));
    const { call, ring } = newCall(line);
    // nobody to ring: the incoming webhook hands over to the action webhook, which holds the forward policy
    const handOver = ok(await ring());
    expect(verbs(handOver)).toEqual(['Redirect']);
    expect(Object.fromEntries(new URL(textOf(childElement(handOver, 'Redirect'))).searchParams)).toEqual({ stage: 'ring', next: '0' });
    const first = ok(await call.redirected(handOver));
    expect(textOf(childElement(childElement(first, 'Dial'), 'Number'))).toBe(FORWARD);
    expectVoicemail(ok(await call.dialEnded(first, { DialCallStatus: 'no-answer' })));
  });
});

describe('sequential ringing', () => {
  test('one member at a time, in the order added, each for ring-seconds; then voicemail after the last', async () => {
    const line = await newLine(['dave', 'erin', 'frank'], { strategy: 'sequential', ringSeconds: 15 });
    const { call, ring } = newCall(line);
    let twiml = ok(await ring());
    const rung: string[] = [];
    for (let next = 1; next <= 3; next++) {
      const dial = childElement(twiml, 'Dial');
      expect(dial.attrs.timeout).toBe('15');
      expect(Object.fromEntries(new URL(dial.attrs.action).searchParams)).toEqual({ stage: 'ring', next: String(next) });
      const clients = dialledClients(dial);
      expect(clients).toHaveLength(1);
      rung.push(clients[0].identity);
      twiml = ok(await call.dialEnded(twiml, next === 2 ? { DialCallStatus: 'busy', DialBridged: 'false' } : NO_ANSWER));
    }
    expect(rung).toEqual([member('dave'), member('erin'), member('frank')]);
    expectVoicemail(twiml);
    await leaveMessage(call, twiml);
    // the incoming call, three Dial actions, the Record action: within members + 3
    expect(call.webhooks).toBe(5);
  });

  test('the second member answers: nobody after rings', async () => {
    const line = await newLine(['dave', 'erin', 'frank'], { strategy: 'sequential', forwardTo: FORWARD });
    const { call, ring } = newCall(line);
    const second = ok(await call.dialEnded(ok(await ring()), NO_ANSWER));
    expect(dialledClients(childElement(second, 'Dial')).map((c) => c.identity)).toEqual([member('erin')]);
    expect(verbs(ok(await call.dialEnded(second, { DialCallStatus: 'completed', DialBridged: 'true' })))).toEqual(['Hangup']);
  });
});

describe('out of hours', () => {
  test('straight to voicemail: nobody rings and nothing is forwarded (hours on another day, in UTC)', async () => {
    // a day three days from today, in UTC: closed now, whatever the time of day the test runs
    const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    const other = days[(new Date().getUTCDay() + 3) % 7];
    const line = await newLine(['alice', 'bob'], { forwardTo: FORWARD, hours: `${other} 00:00-24:00`, timeZone: 'UTC', greeting: 'We are closed.' });
    const { call, ring } = newCall(line);
    const twiml = ok(await ring());
    expectVoicemail(twiml, 'We are closed.');
    await leaveMessage(call, twiml);
    // without voicemail: the apology
    await app.lines.putSettings(line, { ...DEFAULT_LINE_SETTINGS, voicemail: false, hours: `${other} 00:00-24:00`, timeZone: 'UTC' });
    const again = ok(await newCall(line).ring());
    expect(verbs(again)).toEqual(['Say', 'Hangup']);
    expect(textOf(childElement(again, 'Say'))).toBe(phrasesFor('en-US').apology);
  });

  test('open every day: it rings', async () => {
    const line = await newLine(['alice'], { hours: 'Sun-Sat 00:00-24:00', timeZone: 'Asia/Tokyo' });
    expect(verbs(ok(await newCall(line).ring()))).toEqual(['Dial']);
  });
});

describe('internal calls (the outgoing webhook with callOutgoingClient)', () => {
  const outgoing = (from: string, params: Record<string, string>) =>
    postWebhook(
      app.routeUrls.callOutgoing,
      {
        AccountSid: TEST_CREDENTIALS.accountSid,
        ApiVersion: '2010-04-01',
        ApplicationSid: TEST_CREDENTIALS.twimlAppSid,
        CallSid: twilioSid('CA'),
        CallStatus: 'ringing',
        Called: '',
        Caller: `client:${from}`,
        Direction: 'inbound',
        From: `client:${from}`,
        To: '',
        ...params,
      },
      AUTH,
    );

  test('to a teammate: their softphone rings with the caller’s identity and the line', async () => {
    const line = await newLine(['alice', 'bob']);
    const twiml = ok(await outgoing(member('alice'), { callOutgoingClient: member('bob') }));
    const dial = childElement(twiml, 'Dial');
    expect(dial.attrs).toMatchObject({ answerOnBridge: 'true', timeLimit: '14400' });
    expect(dialledClients(dial)).toEqual([{ identity: member('bob'), parameters: { callerNumber: `client:${member('alice')}`, lineNumber: line } }]);
    expect(dial.children.some((c) => typeof c !== 'string' && c.name === 'Number')).toBe(false);
  });

  test('to someone not on the caller’s line, an unknown name, oneself or a malformed name: refused, said once, hung up', async () => {
    await newLine(['dave']);
    const outsider = member('dave');
    await newLine(['alice', 'bob']);
    for (const target of [outsider, 'nobody_here', member('alice'), 'bad name!', '../bob']) {
      const twiml = ok(await outgoing(member('alice'), { callOutgoingClient: target }));
      expect(verbs(twiml)).toEqual(['Say', 'Hangup']);
      expect(textOf(childElement(twiml, 'Say'))).toBe(OUTGOING_MESSAGES.notATeammate);
    }
    // a caller that is not a device at all
    const stranger = ok(await outgoing('stranger', { callOutgoingClient: member('bob') }));
    expect(textOf(childElement(stranger, 'Say'))).toBe(OUTGOING_MESSAGES.unknownCaller);
  });

  test('an external number from a line member: the line’s number as caller ID', async () => {
    const line = await newLine(['alice']);
    const twiml = ok(await outgoing(member('alice'), { callOutgoingPhoneNumber: '090-5987-6543' }));
    const dial = childElement(twiml, 'Dial');
    expect(dial.attrs.callerId).toBe(line);
    expect(textOf(childElement(dial, 'Number'))).toBe('+819059876543');
  });
});

describe('every refusal answers valid TwiML', () => {
  test('an unknown number, a stage that is not ours, a line that does not exist, a screen without a stage', async () => {
    const unknown = ok(await newCall('+815039999999').ring());
    expect(verbs(unknown)).toEqual(['Say', 'Hangup']);

    const line = await newLine(['alice']);
    const call = new TwilioCall(AUTH, TEST_CREDENTIALS.accountSid, CALLER, line);
    for (const query of ['stage=ring', 'stage=ring&next=x', 'stage=voicemail', '']) {
      const url = `${app.routeUrls.callAction}${query ? `?${query}` : ''}`;
      const answer = ok(await postWebhook(url, call.params('in-progress', { DialCallStatus: 'no-answer' }), AUTH));
      expect(verbs(answer)).toEqual(['Say', 'Hangup']);
      expect(textOf(childElement(answer, 'Say'))).toBe(phrasesFor('en-US').apology);
    }
    const noLine = new TwilioCall(AUTH, TEST_CREDENTIALS.accountSid, CALLER, '+815039999998');
    expect(
      verbs(ok(await postWebhook(`${app.routeUrls.callAction}?stage=forward`, noLine.params('in-progress', { DialCallStatus: 'busy' }), AUTH))),
    ).toEqual(['Say', 'Hangup']);
    const screen = ok(await postWebhook(app.routeUrls.forwardScreen, call.params('in-progress'), AUTH));
    expect(verbs(screen)).toEqual(['Say', 'Hangup']);
  });

  test('an unsigned or wrongly signed webhook on any call-flow route → 403 with no body', async () => {
    const line = await newLine(['alice']);
    const call = new TwilioCall(AUTH, TEST_CREDENTIALS.accountSid, CALLER, line);
    for (const url of [
      app.routeUrls.callIncoming,
      `${app.routeUrls.callAction}?stage=ring&next=1`,
      `${app.routeUrls.forwardScreen}?stage=prompt&line=${encodeURIComponent(line)}`,
    ]) {
      const forged = await postWebhook(url, call.params('ringing'), 'not-the-auth-token');
      expect(forged.status).toBe(403);
      expect(forged.body).toBe('');
    }
    // a stage changed after Twilio signed the URL
    const signedFor = `${app.routeUrls.callAction}?stage=forward`;
    const { signWebhook } = await import('../../lib/local/sign');
    const body = new URLSearchParams(call.params('in-progress', { DialCallStatus: 'no-answer' })).toString();
    const res = await fetch(`${app.routeUrls.callAction}?stage=recorded`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signWebhook(AUTH, signedFor, body) },
      body,
    });
    expect(res.status).toBe(403);
  });
});

describe('a forward number the destination policy no longer allows', () => {
  test('set while another country was allowed, it is dialled; once ALLOWED_DESTINATION_COUNTRIES drops that country, it is not: voicemail instead', async () => {
    const registryPath = path.join(dir, 'policy-registry');
    const US_NUMBER = '+12025550123';
    let policyApp = await startLocalApp(options({ registryPath, env: { ALLOWED_DESTINATION_COUNTRIES: 'JP,US' } }));
    let line: string;
    try {
      line = await newLine(['alice'], {}, policyApp);
      // set through the line command's own rules, with the countries then allowed
      await setLine(policyApp.lines, line, { forwardTo: '+1 202-555-0123' }, ['JP', 'US']);
      const { call, ring } = newCall(line, policyApp);
      const forward = ok(await call.dialEnded(ok(await ring()), NO_ANSWER));
      expect(textOf(childElement(childElement(forward, 'Dial'), 'Number'))).toBe(US_NUMBER);
    } finally {
      await policyApp.close();
    }
    policyApp = await startLocalApp(options({ registryPath, env: { ALLOWED_DESTINATION_COUNTRIES: 'JP' } }));
    try {
      expect((await policyApp.lines.findLine(line))?.settings.forwardTo).toBe(US_NUMBER);
      const { call, ring } = newCall(line, policyApp);
      const first = ok(await ring());
      const next = ok(await call.dialEnded(first, NO_ANSWER));
      expectVoicemail(next);
      expect(JSON.stringify(next)).not.toContain(US_NUMBER);
      // and with the default policy (the line's own country only) too
    } finally {
      await policyApp.close();
    }
  }, 120_000);

  test('a forward to the line’s own number is never dialled (it would ring the line again)', async () => {
    const line = await newLine(['alice']);
    await app.lines.putSettings(line, { ...DEFAULT_LINE_SETTINGS, forwardTo: line });
    const { call, ring } = newCall(line);
    expectVoicemail(ok(await call.dialEnded(ok(await ring()), NO_ANSWER)));
  });

  test('a premium-rate forward number written into the registry by hand is never dialled', async () => {
    const line = await newLine(['alice']);
    await app.lines.putSettings(line, { ...DEFAULT_LINE_SETTINGS, forwardTo: '+81990123456' });
    const { call, ring } = newCall(line);
    expectVoicemail(ok(await call.dialEnded(ok(await ring()), NO_ANSWER)));
  });
});

// ---------------------------------------------------------------------------------------------------------
// Hours against a frozen clock: the handlers with deps.clock, over dynalite (the local app has no clock option)

describe('hours with a frozen clock (the call-flow handlers)', () => {
  const reg = useLineRegistry();
  const LINE = '+815031234567';

  function handlersAt(iso: string) {
    const deps = {
      lines: reg.lines,
      attempts: reg.attempts,
      credentials: staticCredentials(TEST_CREDENTIALS),
      config: loadConfig({}),
      clock: () => new Date(iso),
    };
    return { incoming: createIncomingCallHandler(deps), action: createCallActionHandler(deps) };
  }

  async function incomingAt(iso: string): Promise<XmlElement> {
    const { incoming } = handlersAt(iso);
    const params = new TwilioCall(AUTH, TEST_CREDENTIALS.accountSid, CALLER, LINE).params('ringing');
    return parseTwiml(await incoming(signedEvent(API_PATHS.callIncoming, params), { log: new KeptLog(), metrics: NO_METRICS }));
  }

  beforeEach(async () => {
    await reg.lines.put(await memberRecord(LINE, 'alice'));
    await reg.lines.putSettings(LINE, { ...DEFAULT_LINE_SETTINGS, forwardTo: FORWARD, hours: 'Mon-Fri 09:00-18:00', timeZone: 'Asia/Tokyo' });
  });

  test.each([
    ['2024-06-03T00:00:00Z', 'Monday 09:00 in Tokyo', 'Dial'],
    ['2024-06-03T08:59:59Z', 'Monday 17:59:59', 'Dial'],
    ['2024-06-03T09:00:00Z', 'Monday 18:00', 'Say'],
    ['2024-06-02T23:59:00Z', 'Monday 08:59', 'Say'],
    ['2024-06-07T03:00:00Z', 'Friday noon', 'Dial'],
    ['2024-06-08T03:00:00Z', 'Saturday noon', 'Say'],
    ['2024-06-09T15:30:00Z', 'Monday 00:30 (still Sunday in UTC)', 'Say'],
  ])('%s (%s): the first verb is %s', async (iso, _, first) => {
    const twiml = await incomingAt(iso);
    expect(verbs(twiml)[0]).toBe(first);
    if (first === 'Say') expectVoicemail(twiml);
  });

  test('daylight saving time moves the hours with the line’s clocks (America/New_York)', async () => {
    await reg.lines.putSettings(LINE, { ...DEFAULT_LINE_SETTINGS, hours: 'Mon-Fri 09:00-17:00', timeZone: 'America/New_York' });
    // 13:30 UTC: 08:30 EST in winter (closed), 09:30 EDT in summer (open)
    expect(verbs(await incomingAt('2024-03-08T13:30:00Z'))[0]).toBe('Say');
    expect(verbs(await incomingAt('2024-03-11T13:30:00Z'))[0]).toBe('Dial');
  });

  test('a call that started within hours is not cut by the closing time: the action after the ring still forwards', async () => {
    const { action } = handlersAt('2024-06-03T09:05:00Z'); // 18:05 in Tokyo, after closing
    const call = new TwilioCall(AUTH, TEST_CREDENTIALS.accountSid, CALLER, LINE);
    const event = signedEvent(API_PATHS.callAction, call.params('in-progress', { DialCallStatus: 'no-answer' }), {
      query: { stage: 'ring', next: '1' },
    });
    const twiml = parseTwiml(await action(event, { log: new KeptLog(), metrics: NO_METRICS }));
    expect(textOf(childElement(childElement(twiml, 'Dial'), 'Number'))).toBe(FORWARD);
  });
});
