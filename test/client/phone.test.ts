import { INCOMING_CALL_PARAMETERS as API_INCOMING_CALL_PARAMETERS } from '../../lambda/core/twiml';
import { INCOMING_CALL_PARAMETERS, Phone } from '../../client/src/phone';
import { connectedSeconds, type CallState } from '../../client/src/call-state';
import { TokenError, type Credentials, type TokenGrant } from '../../client/src/token-client';
import type {
  FeedbackIssue,
  FeedbackScore,
  VoiceCall,
  VoiceCallEvents,
  VoiceDevice,
  VoiceDeviceEvents,
  VoiceError,
} from '../../client/src/voice/types';

/** A test double for the Voice SDK Device behind the adapter interface. */
class Emitter<T> {
  handlers: { [K in keyof T]?: Array<T[K]> } = {};
  on<E extends keyof T>(event: E, listener: T[E]): void {
    this.handlers[event] ??= [];
    this.handlers[event].push(listener);
  }
  emit<E extends keyof T>(event: E, ...args: unknown[]): void {
    for (const h of this.handlers[event] ?? []) (h as unknown as (...a: unknown[]) => void)(...args);
  }
}

class TestCall extends Emitter<VoiceCallEvents> implements VoiceCall {
  muted = false;
  digits = '';
  accepted = false;
  rejected = false;
  disconnected = false;
  constructor(
    readonly direction: VoiceCall['direction'],
    readonly remote: string,
    readonly customParameters: Readonly<Record<string, string>> = {},
  ) {
    super();
  }
  accept() {
    this.accepted = true;
    this.emit('accept');
  }
  reject() {
    this.rejected = true;
  }
  disconnect() {
    this.disconnected = true;
    this.emit('disconnect');
  }
  mute(m: boolean) {
    this.muted = m;
  }
  isMuted() {
    return this.muted;
  }
  sendDigits(d: string) {
    this.digits += d;
  }
  feedback: Array<{ score?: FeedbackScore; issue?: FeedbackIssue }> = [];
  feedbackFails?: string;
  async postFeedback(score?: FeedbackScore, issue?: FeedbackIssue) {
    if (this.feedbackFails) throw new Error(this.feedbackFails);
    this.feedback.push({ score, issue });
  }
}

class TestDevice extends Emitter<VoiceDeviceEvents> implements VoiceDevice {
  registered = false;
  tokens: string[] = [];
  registerCalls = 0;
  registerFails?: VoiceError;
  destroyed = false;
  connects: Array<Record<string, string>> = [];
  lastCall?: TestCall;
  audio = null;
  constructor(token: string) {
    super();
    this.tokens.push(token);
  }
  async register() {
    this.registerCalls++;
    this.emit('registering');
    if (this.registerFails) {
      const err = this.registerFails;
      this.registerFails = undefined;
      throw Object.assign(new Error(err.message), { code: err.code });
    }
    this.registered = true;
    this.emit('registered');
  }
  async unregister() {
    this.registered = false;
    this.emit('unregistered');
  }
  updateToken(token: string) {
    this.tokens.push(token);
  }
  async connect(params: Record<string, string>) {
    this.connects.push(params);
    this.lastCall = new TestCall(
      'outgoing',
      params.callOutgoingClient ? `client:${params.callOutgoingClient}` : params.callOutgoingPhoneNumber,
      params,
    );
    return this.lastCall;
  }
  destroy() {
    this.destroyed = true;
    this.registered = false;
  }
}

const creds: Credentials = { twilioPhoneNumber: '+815031234567', deviceSecret: 'secret' };
const flush = () => new Promise((r) => setImmediate(r));

function setup(tokenResults: Array<TokenGrant | Error> = []) {
  let n = 0;
  const fetchToken = jest.fn(async (): Promise<TokenGrant> => {
    const next = tokenResults.shift();
    if (next instanceof Error) throw next;
    return next ?? { token: `token-${++n}`, identity: 'DeviceId_0001' };
  });
  const devices: TestDevice[] = [];
  const timers: Array<{ fn: () => void; ms: number }> = [];
  let clock = 1_000_000;
  /** The phone's call as it was each time a call finished (the page then asks the server's call log again). */
  const finished: CallState[] = [];
  const phone: Phone = new Phone({
    fetchToken,
    createDevice: (token) => {
      const d = new TestDevice(token);
      devices.push(d);
      return d;
    },
    onCallFinished: () => finished.push(phone.state.call),
    now: () => clock,
    setTimer: (fn, ms) => {
      const t = { fn, ms };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      const i = timers.indexOf(h as (typeof timers)[number]);
      if (i >= 0) timers.splice(i, 1);
    },
    retryDelaysMs: [100, 500],
  });
  const runTimers = async () => {
    const due = timers.splice(0);
    for (const t of due) t.fn();
    await flush();
  };
  return { phone, fetchToken, devices, timers, runTimers, finished, tick: (ms: number) => (clock += ms) };
}

describe('Phone: sign-in and registration', () => {
  it('gets a token, creates the Device with it and registers', async () => {
    const { phone, fetchToken, devices } = setup();
    const states: string[] = [];
    phone.subscribe((s) => states.push(s.registration));
    await expect(phone.signIn(creds)).resolves.toBe(true);
    expect(fetchToken).toHaveBeenCalledWith(creds);
    expect(devices[0].tokens).toEqual(['token-1']);
    expect(phone.state).toMatchObject({ registration: 'ready', identity: 'DeviceId_0001' });
    expect(states).toEqual(expect.arrayContaining(['signed-out', 'signing-in', 'registering', 'ready']));
  });

  it('shows a wrong secret clearly and creates no Device', async () => {
    const { phone, devices } = setup([new TokenError('refused', 'Unknown phone number or wrong device secret.', 403)]);
    await expect(phone.signIn(creds)).resolves.toBe(false);
    expect(phone.state).toMatchObject({ registration: 'error', message: 'Unknown phone number or wrong device secret.' });
    expect(phone.credentials).toBeUndefined();
    expect(devices).toHaveLength(0);
  });

  it('signs out: unregisters and destroys the Device', async () => {
    const { phone, devices } = setup();
    await phone.signIn(creds);
    await phone.signOut();
    expect(devices[0].destroyed).toBe(true);
    expect(phone.state.registration).toBe('signed-out');
    expect(phone.credentials).toBeUndefined();
  });
});

describe('Phone: staying connected', () => {
  it('refreshes the token on tokenWillExpire with updateToken', async () => {
    const { phone, devices, fetchToken } = setup();
    await phone.signIn(creds);
    devices[0].emit('tokenWillExpire');
    await flush();
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(devices[0].tokens).toEqual(['token-1', 'token-2']);
    expect(devices).toHaveLength(1); // no new Device, no reload
    expect(phone.state.registration).toBe('ready');
  });

  it('retries a failed refresh with backoff and recovers', async () => {
    const { phone, devices, timers, runTimers } = setup([{ token: 'token-1', identity: 'i' }, new TokenError('network', 'offline')]);
    await phone.signIn(creds);
    devices[0].emit('tokenWillExpire');
    await flush();
    expect(timers.map((t) => t.ms)).toEqual([100]);
    await runTimers();
    expect(devices[0].tokens.at(-1)).toMatch(/^token-/);
    expect(devices[0].tokens).toHaveLength(2);
  });

  it('stops and asks to sign in again when the refresh is refused (secret rotated)', async () => {
    const { phone, devices, timers } = setup([
      { token: 'token-1', identity: 'i' },
      new TokenError('refused', 'Unknown phone number or wrong device secret.', 403),
    ]);
    await phone.signIn(creds);
    devices[0].emit('tokenWillExpire');
    await flush();
    expect(phone.state).toMatchObject({ registration: 'error', message: expect.stringMatching(/wrong device secret\. Sign in again\./) });
    expect(timers).toHaveLength(0);
  });

  it('recovers from an expired token (20104) with a fresh token and register()', async () => {
    const { phone, devices } = setup();
    await phone.signIn(creds);
    devices[0].registered = false;
    devices[0].emit('error', { code: 20104, message: 'AccessTokenExpired' });
    expect(phone.state.registration).toBe('offline');
    await flush();
    await flush();
    expect(devices[0].tokens).toEqual(['token-1', 'token-2']);
    expect(devices[0].registerCalls).toBe(2);
    expect(phone.state.registration).toBe('ready');
  });

  it('recovers from a lost network: offline, then back when the browser is online', async () => {
    const { phone, devices, timers, runTimers } = setup();
    await phone.signIn(creds);
    devices[0].registered = false;
    devices[0].emit('unregistered');
    expect(phone.state).toMatchObject({ registration: 'offline', message: expect.stringMatching(/Reconnecting/) });
    expect(timers).toHaveLength(1);
    // the fetch fails while offline …
    devices[0].registerFails = { code: 31005, message: 'Connection error' };
    await runTimers();
    await flush();
    expect(phone.state.registration).toBe('offline');
    expect(timers.map((t) => t.ms)).toEqual([500]);
    // … and the 'online' event retries at once
    phone.networkOnline();
    await flush();
    await flush();
    expect(phone.state.registration).toBe('ready');
    expect(timers).toHaveLength(0);
    expect(devices).toHaveLength(1);
  });

  it('comes back to ready after a browser offline/online blip the Device stayed registered through', async () => {
    const { phone, devices, fetchToken, timers } = setup();
    await phone.signIn(creds);
    const states: string[] = [];
    phone.subscribe((s) => states.push(s.registration));
    // Wi-Fi roam or VPN toggle: the browser fires 'offline', the Voice SDK's websocket survives.
    phone.networkOffline();
    expect(phone.state).toMatchObject({ registration: 'offline', message: expect.stringMatching(/No connection to the phone service/) });
    expect(devices[0].registered).toBe(true);
    // The SDK's periodic re-register emits nothing (no state change), so only 'online' can bring it back.
    phone.networkOnline();
    await flush();
    expect(phone.state.registration).toBe('ready');
    expect(phone.state.message).toBeUndefined();
    expect(states).toEqual(['ready', 'offline', 'ready']);
    // Nothing redone: no token fetched, no register(), no new Device, no retry left behind.
    expect(fetchToken).toHaveBeenCalledTimes(1);
    expect(devices[0].tokens).toEqual(['token-1']);
    expect(devices[0].registerCalls).toBe(1);
    expect(devices).toHaveLength(1);
    expect(timers).toHaveLength(0);
    // Call works again (main.ts enables it for registration 'ready' with no active call).
    expect(phone.state.call.phase).toBe('idle');
    await phone.dial('+819059876543');
    expect(devices[0].connects).toEqual([{ callOutgoingPhoneNumber: '+819059876543', callerPhoneNumber: '+815031234567' }]);
    expect(phone.state.call.phase).toBe('connecting');
  });

  it('re-registers with a fresh token when the Device did unregister during the blip', async () => {
    const { phone, devices, fetchToken, timers } = setup();
    await phone.signIn(creds);
    phone.networkOffline();
    expect(phone.state.registration).toBe('offline');
    devices[0].registered = false;
    devices[0].emit('unregistered');
    expect(phone.state).toMatchObject({ registration: 'offline', message: expect.stringMatching(/Reconnecting/) });
    expect(timers).toHaveLength(1);
    phone.networkOnline();
    await flush();
    await flush();
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(devices[0].tokens).toEqual(['token-1', 'token-2']);
    expect(devices[0].registerCalls).toBe(2);
    expect(devices[0].registered).toBe(true);
    expect(phone.state.registration).toBe('ready');
    expect(timers).toHaveLength(0);
    expect(devices).toHaveLength(1);
  });

  it('returns to ready after an expired token (20104) is replaced on a Device that stayed registered', async () => {
    const { phone, devices, timers } = setup();
    await phone.signIn(creds);
    devices[0].emit('error', { code: 20104, message: 'AccessTokenExpired' });
    expect(phone.state.registration).toBe('offline');
    await flush();
    await flush();
    expect(devices[0].tokens).toEqual(['token-1', 'token-2']); // the expired token is still replaced …
    expect(devices[0].registerCalls).toBe(1); // … but a registered Device is not registered again
    expect(phone.state.registration).toBe('ready');
    expect(timers).toHaveLength(0);
  });

  it('keeps a failed refresh owed across an offline/online blip: the fresh token is still fetched', async () => {
    const { phone, devices, fetchToken, timers } = setup([{ token: 'token-1', identity: 'i' }, new TokenError('network', 'offline')]);
    await phone.signIn(creds);
    devices[0].emit('tokenWillExpire');
    await flush();
    expect(timers.map((t) => t.ms)).toEqual([100]);
    phone.networkOffline();
    phone.networkOnline();
    await flush();
    expect(fetchToken).toHaveBeenCalledTimes(3);
    expect(devices[0].tokens).toHaveLength(2);
    expect(devices[0].registerCalls).toBe(1);
    expect(phone.state.registration).toBe('ready');
    expect(timers).toHaveLength(0);
  });

  it('reports a refused token (20101) as an error without retrying', async () => {
    const { phone, devices, timers } = setup();
    await phone.signIn(creds);
    devices[0].emit('error', { code: 20101, message: 'Invalid token' });
    expect(phone.state).toMatchObject({ registration: 'error', message: expect.stringMatching(/refused/) });
    expect(timers).toHaveLength(0);
  });
});

describe('Phone: calls', () => {
  it("dials with the walkthrough's custom parameters, sends DTMF, mutes and hangs up", async () => {
    const { phone, devices, finished, tick } = setup();
    await phone.signIn(creds);
    await phone.dial('+819059876543');
    expect(devices[0].connects).toEqual([{ callOutgoingPhoneNumber: '+819059876543', callerPhoneNumber: '+815031234567' }]);
    const call = devices[0].lastCall!;
    expect(phone.sendDigits('1')).toBe(false); // not connected yet
    call.emit('ringing');
    expect(phone.state.call.phase).toBe('ringing');
    call.emit('accept');
    expect(phone.state.call.phase).toBe('in-call');
    expect(phone.sendDigits('12#')).toBe(true);
    expect(call.digits).toBe('12#');
    phone.toggleMute();
    expect(call.muted).toBe(true);
    expect(phone.state.call.muted).toBe(true);
    phone.toggleMute();
    expect(call.muted).toBe(false);
    tick(42_000);
    phone.hangUp();
    expect(call.disconnected).toBe(true);
    expect(phone.state.call).toMatchObject({ phase: 'ended', endReason: 'You hung up' });
    // The phone keeps no copy of the call: it says the call is over, once, with the ended call in its state.
    expect(finished).toEqual([expect.objectContaining({ phase: 'ended', direction: 'outgoing', number: '+819059876543', outcome: 'answered' })]);
    expect(connectedSeconds(finished[0], 0)).toBe(42);
  });

  it("shows the other side hanging up and a failing call's reason", async () => {
    const { phone, devices } = setup();
    await phone.signIn(creds);
    await phone.dial('+819059876543');
    devices[0].lastCall!.emit('accept');
    devices[0].lastCall!.emit('disconnect');
    expect(phone.state.call.endReason).toBe('The other side hung up');
    phone.dismissEnded();
    await phone.dial('+12125550123');
    devices[0].lastCall!.emit('error', { code: 13227, message: 'geo' });
    expect(phone.state.call.endReason).toMatch(/^Call failed: .*calling policy/);
  });

  it('rings for incoming calls: accept, reject, and declines a second call while busy', async () => {
    const { phone, devices, finished } = setup();
    await phone.signIn(creds);
    const first = new TestCall('incoming', '+819011112222');
    devices[0].emit('incoming', first);
    expect(phone.state.call).toMatchObject({ phase: 'incoming', number: '+819011112222' });
    phone.accept();
    expect(first.accepted).toBe(true);
    expect(phone.state.call.phase).toBe('in-call');
    const second = new TestCall('incoming', '+819033334444');
    devices[0].emit('incoming', second);
    expect(second.rejected).toBe(true);
    expect(phone.state.call.number).toBe('+819011112222');
    first.emit('disconnect');
    expect(phone.state.call.endReason).toBe('The other side hung up');

    phone.dismissEnded();
    const third = new TestCall('incoming', '+819055556666');
    devices[0].emit('incoming', third);
    phone.reject();
    expect(third.rejected).toBe(true);
    expect(phone.state.call).toMatchObject({ phase: 'ended', endReason: 'Call rejected' });
    // Each finished call made the page ask the call log: the declined one (the first call still on), then the two ended.
    expect(finished.map((c) => [c.phase, c.number, c.outcome])).toEqual([
      ['in-call', '+819011112222', undefined],
      ['ended', '+819011112222', 'answered'],
      ['ended', '+819055556666', 'rejected'],
    ]);
  });

  it('marks a call the caller abandoned as missed', async () => {
    const { phone, devices } = setup();
    await phone.signIn(creds);
    const call = new TestCall('incoming', '+819011112222');
    devices[0].emit('incoming', call);
    call.emit('cancel');
    expect(phone.state.call).toMatchObject({ phase: 'ended', outcome: 'missed' });
  });
});

describe('Phone: team lines', () => {
  it("reads the caller and the line from the API's custom parameters (the names the TwiML sets)", async () => {
    expect(INCOMING_CALL_PARAMETERS).toEqual(API_INCOMING_CALL_PARAMETERS);
    const { phone, devices, finished } = setup();
    await phone.signIn(creds);
    // Twilio's From on a ringing Client leg can be the line's own number; the parameter names the real caller.
    const call = new TestCall('incoming', '+815031234567', { callerNumber: '+819011112222', lineNumber: '+815031234567' });
    devices[0].emit('incoming', call);
    expect(phone.state.call).toMatchObject({ phase: 'incoming', number: '+819011112222', line: '+815031234567' });
    call.emit('cancel');
    expect(finished).toEqual([expect.objectContaining({ phase: 'ended', direction: 'incoming', number: '+819011112222', outcome: 'missed' })]);
  });

  it('shows an internal call as coming from the teammate, and falls back to From without parameters', async () => {
    const { phone, devices } = setup();
    await phone.signIn(creds);
    devices[0].emit('incoming', new TestCall('incoming', 'client:Alice', { callerNumber: 'client:Alice', lineNumber: '+815031234567' }));
    expect(phone.state.call).toMatchObject({ number: 'client:Alice', line: '+815031234567' });
    phone.reject();
    phone.dismissEnded();
    devices[0].emit('incoming', new TestCall('incoming', '+819055556666'));
    expect(phone.state.call.number).toBe('+819055556666');
    expect(phone.state.call.line).toBeUndefined();
  });

  it('declines a call that comes in while busy, and says a call finished (the server logs it under the real caller)', async () => {
    const { phone, devices, finished } = setup();
    await phone.signIn(creds);
    await phone.dial('+819059876543');
    devices[0].lastCall!.emit('accept');
    const second = new TestCall('incoming', '+815031234567', { callerNumber: '+819077778888', lineNumber: '+815031234567' });
    devices[0].emit('incoming', second);
    expect(second.rejected).toBe(true);
    expect(finished).toHaveLength(1);
    expect(phone.state.call).toMatchObject({ phase: 'in-call', number: '+819059876543' });
  });

  it('calls a teammate with callOutgoingClient only (the API sets the caller ID), and the call is client:<name>', async () => {
    const { phone, devices, finished } = setup();
    await phone.signIn(creds);
    await phone.callTeammate('Alice');
    expect(devices[0].connects).toEqual([{ callOutgoingClient: 'Alice' }]);
    expect(phone.state.call).toMatchObject({ phase: 'connecting', number: 'client:Alice', direction: 'outgoing' });
    devices[0].lastCall!.emit('accept');
    phone.hangUp();
    expect(finished).toEqual([expect.objectContaining({ direction: 'outgoing', number: 'client:Alice', outcome: 'answered' })]);
    // not while another call is on
    await phone.dial('+819059876543');
    await phone.callTeammate('Bob');
    expect(devices[0].connects).toHaveLength(2);
  });

  it('keeps the line the token API answered, and the token for the page API', async () => {
    const { phone } = setup([{ token: 'token-1', identity: 'Bob', line: '+815031234567' }]);
    expect(phone.accessToken).toBeUndefined();
    await phone.signIn(creds);
    expect(phone.state).toMatchObject({ identity: 'Bob', line: '+815031234567' });
    expect(phone.accessToken).toBe('token-1');
    await phone.signOut();
    expect(phone.accessToken).toBeUndefined();
    expect(phone.state.line).toBeUndefined();
  });
});

describe('Phone: fresh tokens for the page API', () => {
  it('fetches one token for concurrent callers and hands it to the Device too', async () => {
    const { phone, devices, fetchToken } = setup();
    await phone.signIn(creds);
    const [a, b] = await Promise.all([phone.freshToken(), phone.freshToken()]);
    expect(a).toBe('token-2');
    expect(b).toBe('token-2');
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(devices[0].tokens).toEqual(['token-1', 'token-2']);
    expect(phone.accessToken).toBe('token-2');
    await expect(phone.freshToken()).resolves.toBe('token-3');
  });

  it('a refused refresh asks to sign in again and rejects; a network failure only rejects', async () => {
    const refused = new TokenError('refused', 'Unknown phone number or wrong device secret.', 403);
    const { phone } = setup([{ token: 'token-1', identity: 'i' }, new TokenError('network', 'offline'), refused]);
    await phone.signIn(creds);
    await expect(phone.freshToken()).rejects.toMatchObject({ kind: 'network' });
    expect(phone.state.registration).toBe('ready');
    await expect(phone.freshToken()).rejects.toBe(refused);
    expect(phone.state).toMatchObject({ registration: 'error', message: expect.stringMatching(/wrong device secret\. Sign in again\./) });
    expect(phone.accessToken).toBe('token-1');
  });

  it('refuses when signed out, and a refresh that lands after sign-out is dropped', async () => {
    const { phone } = setup();
    await expect(phone.freshToken()).rejects.toBeInstanceOf(TokenError);
    await phone.signIn(creds);
    const pending = phone.freshToken();
    await phone.signOut();
    await expect(pending).rejects.toBeInstanceOf(TokenError);
    expect(phone.accessToken).toBeUndefined();
  });
});

describe('Phone: reconnecting, call quality and rating (issue 16)', () => {
  async function inCall() {
    const env = setup();
    await env.phone.signIn(creds);
    await env.phone.dial('+819059876543');
    const call = env.devices[0].lastCall!;
    call.emit('accept');
    return { ...env, call };
  }

  it('keeps the call through a dropped signalling connection, leaving the re-registration to the SDK', async () => {
    const { phone, devices, call, timers, runTimers } = await inCall();
    call.emit('reconnecting', { code: 53001, message: 'Signaling connection disconnected' });
    devices[0].registered = false;
    devices[0].emit('unregistered');
    expect(phone.state.call).toMatchObject({ phase: 'in-call', reconnecting: true, reconnectCause: 'signalling' });
    expect(phone.state.registration).toBe('offline');
    // The backoff comes round while the call is reconnecting: no register() of its own, the backoff goes on.
    await runTimers();
    expect(devices[0].registerCalls).toBe(1);
    expect(timers).toHaveLength(1);
    phone.networkOnline();
    await flush();
    expect(devices[0].registerCalls).toBe(1);
    // The SDK brings the call back and registers again by itself.
    call.emit('reconnected');
    devices[0].registered = true;
    devices[0].emit('registered');
    expect(phone.state.call).toMatchObject({ phase: 'in-call', reconnecting: false });
    expect(phone.state.call.reconnectCause).toBeUndefined();
    expect(phone.state.registration).toBe('ready');
    expect(timers).toHaveLength(0);
    expect(call.disconnected).toBe(false);
  });

  it('recovers as usual when the call ends while its signalling is gone', async () => {
    const { phone, devices, call, runTimers } = await inCall();
    call.emit('reconnecting', { code: 53001, message: 'gone' });
    devices[0].registered = false;
    devices[0].emit('unregistered');
    call.emit('error', { code: 31005, message: 'Connection with Twilio was interrupted.' });
    expect(phone.state.call.phase).toBe('ended');
    await runTimers();
    await flush();
    expect(devices[0].registerCalls).toBe(2);
    expect(phone.state.registration).toBe('ready');
  });

  it('tells a media reconnection from a signalling one', async () => {
    const { phone, call } = await inCall();
    call.emit('reconnecting', { code: 53405, message: 'Media connection failed.' });
    expect(phone.state.call).toMatchObject({ reconnecting: true, reconnectCause: 'media' });
    call.emit('reconnected');
    expect(phone.state.call.reconnecting).toBe(false);
  });

  it("follows the call's quality warnings until they clear or the call ends", async () => {
    const { phone, call } = await inCall();
    call.emit('warning', 'high-packet-loss');
    call.emit('warning', 'constant-audio-input-level');
    call.emit('warning', 'high-packet-loss');
    expect(phone.state.call.warnings).toEqual(['high-packet-loss', 'constant-audio-input-level']);
    call.emit('warning-cleared', 'high-packet-loss');
    expect(phone.state.call.warnings).toEqual(['constant-audio-input-level']);
    phone.hangUp();
    expect(phone.state.call.warnings).toBeUndefined();
  });

  it('asks for a rating after an answered call and sends it with postFeedback', async () => {
    const { phone, call } = await inCall();
    expect(phone.state.feedback.status).toBe('none');
    phone.hangUp();
    expect(phone.state.feedback.status).toBe('ask');
    const sending = phone.sendFeedback(2, 'choppy-audio');
    expect(phone.state.feedback.status).toBe('sending');
    await expect(sending).resolves.toBe(true);
    expect(call.feedback).toEqual([{ score: 2, issue: 'choppy-audio' }]);
    expect(phone.state.feedback.status).toBe('sent');
    await expect(phone.sendFeedback(5)).resolves.toBe(false); // once per call
    expect(call.feedback).toHaveLength(1);
  });

  it('a failed send can be tried again; declining says so to Twilio; a new call drops the question', async () => {
    const { phone, devices, call } = await inCall();
    call.emit('disconnect');
    call.feedbackFails = 'Insights is down';
    await expect(phone.sendFeedback(3)).resolves.toBe(false);
    expect(phone.state.feedback).toEqual({ status: 'failed', error: 'Insights is down' });
    call.feedbackFails = undefined;
    phone.declineFeedback();
    await flush();
    expect(call.feedback).toEqual([{ score: undefined, issue: undefined }]);
    expect(phone.state.feedback.status).toBe('none');

    phone.dismissEnded();
    await phone.dial('+819059876543');
    const second = devices[0].lastCall!;
    second.emit('accept');
    second.emit('disconnect');
    expect(phone.state.feedback.status).toBe('ask');
    await phone.dial('+819059876543');
    expect(phone.state.feedback.status).toBe('none');
    await expect(phone.sendFeedback(4)).resolves.toBe(false);
    expect(second.feedback).toEqual([]);
  });

  it('does not ask about a call that was never answered', async () => {
    const { phone, devices } = setup();
    await phone.signIn(creds);
    await phone.dial('+819059876543');
    devices[0].lastCall!.emit('ringing');
    phone.hangUp();
    expect(phone.state.call.outcome).toBe('unanswered');
    expect(phone.state.feedback.status).toBe('none');
    const incoming = new TestCall('incoming', '+819011112222');
    devices[0].emit('incoming', incoming);
    phone.reject();
    expect(phone.state.feedback.status).toBe('none');
  });
});
