import { IDLE, callLabel, connectedSeconds, formatDuration, reduceCall, type CallEvent, type CallState } from '../../client/src/call-state';
import { describeVoiceError, isTokenExpiry } from '../../client/src/errors';
import { countryFromLocale, countryOf, dialChars, formatAsYouType, formatForDisplay, toE164 } from '../../client/src/phone-format';
import {
  RECENT_LIMIT,
  RecentCallsStore,
  forgetCredentials,
  loadCredentials,
  saveCredentials,
  type KeyValueStorage,
} from '../../client/src/recent-calls';
import { TokenError, fetchToken, tokenUrl, type FetchLike } from '../../client/src/token-client';

const run = (events: CallEvent[], from: CallState = IDLE) => events.reduce(reduceCall, from);

describe('call state machine', () => {
  it('walks an outgoing call through connecting, ringing, in call and a local hang-up', () => {
    const dialled = run([{ type: 'dial', number: '+81905987654', at: 1000 }]);
    expect(dialled.phase).toBe('connecting');
    const ringing = reduceCall(dialled, { type: 'ringing' });
    expect(callLabel(ringing)).toBe('Ringing…');
    const inCall = reduceCall(ringing, { type: 'accepted', at: 2000 });
    expect(inCall.phase).toBe('in-call');
    const muted = reduceCall(inCall, { type: 'muted', muted: true });
    expect(callLabel(muted)).toBe('In call (muted)');
    const ended = reduceCall(muted, { type: 'hangup', at: 65_500 });
    expect(ended).toMatchObject({ phase: 'ended', endReason: 'You hung up', outcome: 'answered', muted: false });
    expect(connectedSeconds(ended, 999_999)).toBe(63);
    expect(callLabel(ended)).toBe('Call ended: You hung up');
  });

  it('gives the reason a call ended', () => {
    const inCall = run([
      { type: 'dial', number: '+1', at: 0 },
      { type: 'accepted', at: 1 },
    ]);
    expect(reduceCall(inCall, { type: 'remote-hangup', at: 2 }).endReason).toBe('The other side hung up');
    const ringing = run([{ type: 'dial', number: '+1', at: 0 }, { type: 'ringing' }]);
    expect(reduceCall(ringing, { type: 'remote-hangup', at: 2 })).toMatchObject({ endReason: 'No answer', outcome: 'unanswered' });
    expect(reduceCall(ringing, { type: 'hangup', at: 2 }).endReason).toBe('Call cancelled');
    expect(reduceCall(ringing, { type: 'failed', reason: 'The number is busy.', at: 2 }).endReason).toBe('Call failed: The number is busy.');
  });

  it('handles incoming calls: accept, reject, caller gives up', () => {
    const incoming = run([{ type: 'incoming', number: '+15551234567', at: 0 }]);
    expect(incoming).toMatchObject({ phase: 'incoming', direction: 'incoming' });
    expect(reduceCall(incoming, { type: 'accepted', at: 5 }).phase).toBe('in-call');
    expect(reduceCall(incoming, { type: 'reject', at: 5 })).toMatchObject({ phase: 'ended', outcome: 'rejected' });
    expect(reduceCall(incoming, { type: 'cancelled', at: 5 })).toMatchObject({ phase: 'ended', outcome: 'missed' });
  });

  it('ignores events that do not apply', () => {
    const inCall = run([
      { type: 'dial', number: '+1', at: 0 },
      { type: 'accepted', at: 1 },
    ]);
    expect(reduceCall(inCall, { type: 'dial', number: '+2', at: 3 })).toBe(inCall);
    expect(reduceCall(inCall, { type: 'incoming', number: '+2', at: 3 })).toBe(inCall);
    expect(reduceCall(inCall, { type: 'reset' })).toBe(inCall);
    expect(reduceCall(IDLE, { type: 'muted', muted: true })).toBe(IDLE);
    expect(reduceCall(IDLE, { type: 'hangup', at: 1 })).toBe(IDLE);
    const ended = reduceCall(inCall, { type: 'hangup', at: 2 });
    expect(reduceCall(ended, { type: 'reset' })).toBe(IDLE);
  });

  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3600 + 62)).toBe('1:01:02');
  });
});

describe('phone number formatting', () => {
  it('formats as you type, national and international', () => {
    expect(formatAsYouType('09059876543', 'JP')).toBe('090-5987-6543');
    expect(formatAsYouType('090598', 'JP')).toBe('090-598');
    expect(formatAsYouType('+14155550123')).toBe('+1 415 555 0123');
    expect(formatAsYouType('*67#', 'JP')).toBe('*67#');
    expect(dialChars(' +1 (415) 555-0123x ')).toBe('+14155550123');
  });

  it("turns national format into E.164 for the caller's country", () => {
    expect(toE164('090-5987-6543', 'JP')).toBe('+819059876543');
    expect(toE164('+81-90-5987-6543')).toBe('+819059876543');
    expect(toE164('(415) 555-0123', 'US')).toBe('+14155550123');
    expect(toE164('12', 'JP')).toBeUndefined();
    expect(toE164('', 'JP')).toBeUndefined();
  });

  it('displays numbers nationally at home and internationally abroad', () => {
    expect(countryOf('+81-50-3123-4567')).toBe('JP');
    expect(formatForDisplay('+819059876543', 'JP')).toBe('090-5987-6543');
    expect(formatForDisplay('+14155550123', 'JP')).toBe('+1 415 555 0123');
    expect(formatForDisplay('client:alice', 'JP')).toBe('alice');
    expect(countryFromLocale('ja-JP')).toBe('JP');
    expect(countryFromLocale('en')).toBeUndefined();
  });
});

describe('error messages', () => {
  it('turns Twilio codes into plain sentences', () => {
    expect(describeVoiceError({ code: 31401, message: 'x' }).message).toMatch(/blocking the microphone/);
    expect(describeVoiceError({ code: 31208, message: 'x' }).kind).toBe('microphone');
    expect(describeVoiceError({ code: 20101, message: 'x' }).message).toMatch(/refused this device's sign-in token/);
    expect(describeVoiceError({ code: 31005, message: 'x' }).message).toMatch(/No connection to the phone service/);
    expect(describeVoiceError({ code: 13227, message: 'x' }).message).toMatch(/calling policy does not allow it/);
    expect(describeVoiceError({ message: 'NotAllowedError: Permission denied' }).kind).toBe('microphone');
    expect(describeVoiceError({ code: 99999, message: 'odd' }).message).toBe('Something went wrong (error 99999): odd');
    expect(isTokenExpiry({ code: 20104, message: '' })).toBe(true);
    expect(isTokenExpiry({ code: 31205, message: '' })).toBe(true);
    expect(isTokenExpiry({ code: 31005, message: '' })).toBe(false);
  });
});

function fakeFetch(status: number, body: unknown): FetchLike & jest.Mock {
  return jest.fn(async () => ({
    status,
    ok: status >= 200 && status < 300,
    text: async () => (typeof body === 'string' ? body : JSON.stringify(body)),
  }));
}

describe('token client', () => {
  const creds = { twilioPhoneNumber: '+815031234567', deviceSecret: 's3cret' };

  it("posts the walkthrough's body and returns the token", async () => {
    const f = fakeFetch(200, { success: true, capabilityToken: 'a.b.c', identity: 'DeviceId_0001', expiresAt: '2030-01-01T00:00:00Z' });
    await expect(fetchToken('http://x/prod/', creds, f)).resolves.toEqual({
      token: 'a.b.c',
      identity: 'DeviceId_0001',
      expiresAt: '2030-01-01T00:00:00Z',
    });
    expect(tokenUrl('http://x/prod/')).toBe('http://x/prod/twilio/retrieve_capability_token');
    const [url, init] = f.mock.calls[0] as unknown as [string, { method: string; headers: Record<string, string>; body: string }];
    expect(url).toBe('http://x/prod/twilio/retrieve_capability_token');
    expect(init.method).toBe('POST');
    expect(init.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(init.body)).toEqual({ twilioPhoneNumber: '+815031234567', deviceSecret: 's3cret' });
  });

  it("shows the API's sentence for a wrong secret and does not retry it", async () => {
    const err = await fetchToken(
      'http://x/prod',
      creds,
      fakeFetch(403, { success: false, capabilityToken: null, error: 'Unknown phone number or wrong device secret.' }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenError);
    expect(err).toMatchObject({ kind: 'refused', status: 403, message: 'Unknown phone number or wrong device secret.', retryable: false });
  });

  it('classifies throttling, outages, crashes and network failures', async () => {
    await expect(fetchToken('u', creds, fakeFetch(429, { success: false, error: 'Too many attempts.' }))).rejects.toMatchObject({
      kind: 'rate-limited',
      retryable: true,
    });
    await expect(fetchToken('u', creds, fakeFetch(503, { success: false, error: 'x' }))).rejects.toMatchObject({
      kind: 'unavailable',
      message: expect.stringMatching(/temporarily unavailable/),
    });
    await expect(fetchToken('u', creds, fakeFetch(500, '<html>'))).rejects.toMatchObject({ kind: 'server' });
    await expect(fetchToken('u', creds, fakeFetch(200, { success: false }))).rejects.toMatchObject({ kind: 'server' });
    const offline: FetchLike = async () => {
      throw new TypeError('Failed to fetch');
    };
    await expect(fetchToken('u', creds, offline)).rejects.toMatchObject({ kind: 'network', retryable: true });
  });
});

function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

describe('recent calls and remembered device', () => {
  it('keeps the newest 20 calls, newest first', () => {
    const store = new RecentCallsStore(memoryStorage());
    for (let i = 0; i < 25; i++)
      store.add({
        direction: 'outgoing',
        number: `+1415555${1000 + i}`,
        at: new Date(i * 1000).toISOString(),
        durationSeconds: i,
        outcome: 'answered',
      });
    const list = store.list();
    expect(list).toHaveLength(RECENT_LIMIT);
    expect(list[0].number).toBe('+14155551024');
    expect(list[19].number).toBe('+14155551005');
  });

  it('survives corrupt storage', () => {
    const s = memoryStorage();
    s.setItem('softphone.recentCalls', '{not json');
    expect(new RecentCallsStore(s).list()).toEqual([]);
    s.setItem(
      'softphone.recentCalls',
      JSON.stringify([{ nope: 1 }, { direction: 'incoming', number: '+1', at: 'x', durationSeconds: 0, outcome: 'missed' }]),
    );
    expect(new RecentCallsStore(s).list()).toHaveLength(1);
  });

  it('remembers and forgets credentials', () => {
    const s = memoryStorage();
    expect(loadCredentials(s)).toBeUndefined();
    saveCredentials(s, { twilioPhoneNumber: '+815031234567', deviceSecret: 'x' });
    expect(loadCredentials(s)).toEqual({ twilioPhoneNumber: '+815031234567', deviceSecret: 'x' });
    forgetCredentials(s);
    expect(loadCredentials(s)).toBeUndefined();
    expect(s.data.size).toBe(0);
  });
});
