import { IDLE, callLabel, connectedSeconds, formatDuration, reduceCall, type CallEvent, type CallState } from '../../client/src/call-state';
import { describeVoiceError, isTokenExpiry } from '../../client/src/errors';
import { countryFromLocale, countryOf, dialChars, formatAsYouType, formatForDisplay, toE164 } from '../../client/src/phone-format';
import type { LoggedCall } from '../../client/src/call-log';
import {
  CALL_LOG_KEY,
  LEGACY_RECENT_KEY,
  RecentCallsCache,
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

describe('the copy of Recent calls, and the remembered device', () => {
  const LINE = '+815031234567';
  const call = (n: number, over: Partial<LoggedCall> = {}): LoggedCall => ({
    callSid: `CA${n.toString(16).padStart(32, '0')}`,
    line: LINE,
    direction: 'incoming',
    remote: '+819059876543',
    startedAt: new Date(Date.UTC(2025, 0, 1, 9, 0, n)).toISOString(),
    outcome: 'missed',
    ...over,
  });

  it('keeps one line’s list as the server answered it, and gives it back only for that line', () => {
    const s = memoryStorage();
    const cache = new RecentCallsCache(s);
    expect(cache.load(LINE)).toBeUndefined();
    const log = {
      line: LINE,
      calls: [call(2), call(1, { direction: 'outgoing', member: 'Bob', outcome: 'answered', durationSeconds: 65 })],
      seenUntil: call(1).startedAt,
      unseenMissed: 1,
      savedAt: 1_700_000_000_000,
    };
    cache.save(log);
    expect(cache.load(LINE)).toEqual(log);
    expect(cache.load('+815031234568')).toBeUndefined(); // another line's number: not this copy
    expect([...s.data.keys()]).toEqual([CALL_LOG_KEY]);
    cache.clear();
    expect(cache.load(LINE)).toBeUndefined();
    expect(s.data.size).toBe(0);
  });

  it('keeps at most the newest calls it was built for', () => {
    const cache = new RecentCallsCache(memoryStorage(), 3);
    cache.save({ line: LINE, calls: [5, 4, 3, 2, 1].map((n) => call(n)), unseenMissed: 5, savedAt: 1 });
    expect(cache.load(LINE)?.calls.map((c) => c.callSid)).toEqual([call(5).callSid, call(4).callSid, call(3).callSid]);
  });

  it('survives corrupt storage, and leaves out calls that are not what the API gives', () => {
    const s = memoryStorage();
    s.setItem(CALL_LOG_KEY, '{not json');
    expect(new RecentCallsCache(s).load(LINE)).toBeUndefined();
    s.setItem(CALL_LOG_KEY, JSON.stringify({ line: LINE, calls: [call(1)] })); // no savedAt
    expect(new RecentCallsCache(s).load(LINE)).toBeUndefined();
    s.setItem(
      CALL_LOG_KEY,
      JSON.stringify({
        line: LINE,
        savedAt: 1,
        unseenMissed: -3,
        calls: [{ nope: 1 }, call(1, { callSid: 'CAnope' }), call(2, { outcome: 'lost' as never }), call(3), 'x'],
      }),
    );
    expect(new RecentCallsCache(s).load(LINE)).toEqual({ line: LINE, calls: [call(3)], unseenMissed: 0, savedAt: 1 });
  });

  it('drops the first release’s own list of calls (the server’s log replaces it)', () => {
    const s = memoryStorage();
    s.setItem(LEGACY_RECENT_KEY, JSON.stringify([{ direction: 'incoming', number: '+1', at: 'x', durationSeconds: 0, outcome: 'missed' }]));
    new RecentCallsCache(s);
    expect(s.data.has(LEGACY_RECENT_KEY)).toBe(false);
  });

  it('keeps going when storage is full or blocked', () => {
    const blocked: KeyValueStorage = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {
        throw new Error('SecurityError');
      },
    };
    const cache = new RecentCallsCache(blocked);
    expect(() => cache.save({ line: LINE, calls: [call(1)], unseenMissed: 1, savedAt: 1 })).not.toThrow();
    expect(cache.load(LINE)).toBeUndefined();
    expect(() => cache.clear()).not.toThrow();
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
