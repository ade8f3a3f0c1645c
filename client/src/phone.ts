/**
 * The phone controller: sign-in, registration, token refresh, recovery and the current call.
 * No DOM here; the UI subscribes to snapshots. Dependencies (token fetch, device factory, timers) are
 * injected so the logic is unit-tested with a test double Device.
 */
import { IDLE, isActive, reconnectCauseOf, reduceCall, type CallEvent, type CallState } from './call-state';
import { describeVoiceError, isTokenExpiry } from './errors';
import { TokenError, type Credentials, type TokenGrant } from './token-client';
import type { CreateVoiceDevice, FeedbackIssue, FeedbackScore, VoiceCall, VoiceDevice, VoiceError } from './voice/types';

/**
 * The custom parameters of an incoming call that the API's TwiML sets (lambda/core/twiml.ts
 * INCOMING_CALL_PARAMETERS; not imported, as that module brings Twilio's TwiML builder; a unit test holds them
 * equal).
 */
export const INCOMING_CALL_PARAMETERS = { caller: 'callerNumber', line: 'lineNumber' } as const;

export type RegistrationState = 'signed-out' | 'signing-in' | 'registering' | 'ready' | 'offline' | 'error';

/**
 * The rating of the last call (`Call.postFeedback`): asked after a call that was answered, until it is sent,
 * declined, or another call starts.
 */
export interface FeedbackState {
  status: 'none' | 'ask' | 'sending' | 'sent' | 'failed';
  /** Why sending failed. */
  error?: string;
}

const NO_FEEDBACK: FeedbackState = { status: 'none' };

export interface PhoneSnapshot {
  registration: RegistrationState;
  /** A sentence for the user about the registration (errors, recovery), if any. */
  message?: string;
  identity?: string;
  /** The signed-in device's line (E.164), as the token API answered. */
  line?: string;
  call: CallState;
  inputVolume: number;
  feedback: FeedbackState;
}

export interface PhoneDeps {
  fetchToken(creds: Credentials): Promise<TokenGrant>;
  createDevice: CreateVoiceDevice;
  /**
   * A call of this device is over (it ended, or it was declined because another was on). The call log is the
   * server's (it logs every call from Twilio's status callbacks): the page asks it again instead of keeping a copy.
   */
  onCallFinished?: () => void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** Delays between recovery attempts; the last one repeats. */
  retryDelaysMs?: readonly number[];
}

type Listener = (snapshot: PhoneSnapshot) => void;

export class Phone {
  private device?: VoiceDevice;
  private creds?: Credentials;
  /** The Access Token the Device holds now; the page API authenticates with it too. */
  private token?: string;
  private tokenRefresh?: Promise<string>;
  private activeCall?: VoiceCall;
  /** The last answered call, while its rating is asked for. */
  private ratedCall?: VoiceCall;
  private listeners = new Set<Listener>();
  private snapshot: PhoneSnapshot = { registration: 'signed-out', call: IDLE, inputVolume: 0, feedback: NO_FEEDBACK };
  private retryTimer?: unknown;
  private retryCount = 0;
  private recovering = false;
  /** The Device's token expired or a refresh failed, so recovery must hand it a fresh one even if it is registered. */
  private tokenStale = false;
  private session = 0; // bumps on sign-in/out so late callbacks from an old device are ignored
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly retryDelays: readonly number[];

  constructor(private readonly deps: PhoneDeps) {
    this.now = deps.now ?? (() => Date.now());
    this.setTimer = deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = deps.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    this.retryDelays = deps.retryDelaysMs ?? [1000, 3000, 10000, 30000];
  }

  get state(): PhoneSnapshot {
    return this.snapshot;
  }

  get credentials(): Credentials | undefined {
    return this.creds;
  }

  /** The current Access Token while signed in. */
  get accessToken(): string | undefined {
    return this.token;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.snapshot);
    return () => this.listeners.delete(listener);
  }

  private update(patch: Partial<PhoneSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const l of this.listeners) l(this.snapshot);
  }

  private setRegistration(registration: RegistrationState, message?: string): void {
    this.update({ registration, message });
  }

  /** Signs in: fetches a token, creates and registers the Device. Resolves true when registered. */
  async signIn(creds: Credentials): Promise<boolean> {
    await this.signOut();
    const session = ++this.session;
    this.creds = creds;
    this.setRegistration('signing-in');
    let grant: TokenGrant;
    try {
      grant = await this.deps.fetchToken(creds);
    } catch (err) {
      if (session !== this.session) return false;
      this.creds = undefined;
      this.setRegistration('error', err instanceof Error ? err.message : String(err));
      return false;
    }
    if (session !== this.session) return false;
    const device = this.deps.createDevice(grant.token);
    this.device = device;
    this.token = grant.token;
    this.update({ identity: grant.identity, line: grant.line });
    this.wire(device, session);
    this.setRegistration('registering');
    try {
      await device.register();
    } catch (err) {
      if (session !== this.session) return false;
      this.onDeviceError(toVoiceError(err));
      return false;
    }
    return session === this.session && this.snapshot.registration === 'ready';
  }

  async signOut(): Promise<void> {
    this.session++;
    this.cancelRetry();
    this.tokenStale = false;
    const device = this.device;
    this.device = undefined;
    this.creds = undefined;
    this.token = undefined;
    this.tokenRefresh = undefined;
    this.activeCall?.disconnect();
    this.activeCall = undefined;
    this.ratedCall = undefined;
    if (device) {
      try {
        if (device.registered) await device.unregister();
      } catch {
        // unregistering is best effort; destroy below drops the connection anyway
      }
      device.destroy();
    }
    this.snapshot = { registration: 'signed-out', call: IDLE, inputVolume: 0, feedback: NO_FEEDBACK };
    this.update({});
  }

  private wire(device: VoiceDevice, session: number): void {
    const live = () => session === this.session && this.device === device;
    device.on('registering', () => live() && this.snapshot.registration !== 'offline' && this.setRegistration('registering'));
    device.on('registered', () => live() && this.markReady());
    device.on('unregistered', () => {
      if (!live()) return;
      this.setRegistration('offline', 'Connection to the phone service lost. Reconnecting…');
      this.scheduleRecovery();
    });
    device.on('error', (err) => live() && this.onDeviceError(err));
    device.on('tokenWillExpire', () => {
      if (live()) void this.refreshToken(session);
    });
    device.on('incoming', (call) => live() && this.onIncoming(call));
  }

  /** The Device is registered: stop any recovery and show the phone as ready. */
  private markReady(): void {
    this.cancelRetry();
    this.retryCount = 0;
    this.setRegistration('ready');
  }

  private onDeviceError(err: VoiceError): void {
    const friendly = describeVoiceError(err);
    if (isTokenExpiry(err)) {
      this.tokenStale = true;
      this.setRegistration('offline', friendly.message);
      void this.recover();
      return;
    }
    if (friendly.kind === 'network') {
      this.setRegistration('offline', friendly.message);
      this.scheduleRecovery();
      return;
    }
    if (friendly.kind === 'token') {
      this.setRegistration('error', friendly.message);
      return;
    }
    // Errors during a call are shown with the call; others as a message without changing registration.
    if (!isActive(this.snapshot.call)) this.update({ message: friendly.message });
  }

  /**
   * A fresh Access Token from the token API, handed to the Device too: on `tokenWillExpire`, in recovery, and when
   * the page API answers 401. Concurrent callers share one request. A refusal (the secret was rotated, the device
   * removed) puts the phone in `error`, asking to sign in again; it rejects with the TokenError.
   */
  freshToken(): Promise<string> {
    if (this.tokenRefresh) return this.tokenRefresh;
    const refresh: Promise<string> = this.fetchFreshToken().finally(() => {
      if (this.tokenRefresh === refresh) this.tokenRefresh = undefined;
    });
    this.tokenRefresh = refresh;
    return refresh;
  }

  private async fetchFreshToken(): Promise<string> {
    const creds = this.creds;
    const session = this.session;
    if (!creds) throw new TokenError('refused', 'You are signed out.');
    try {
      const grant = await this.deps.fetchToken(creds);
      if (session !== this.session) throw new TokenError('refused', 'You are signed out.');
      this.token = grant.token;
      this.device?.updateToken(grant.token);
      this.tokenStale = false;
      return grant.token;
    } catch (err) {
      if (session === this.session && err instanceof TokenError && !err.retryable) {
        this.setRegistration('error', `${err.message} Sign in again.`);
      }
      throw err;
    }
  }

  /** Fetches a fresh token and hands it to the Device (on `tokenWillExpire`); on failure, recovers or stops. */
  private async refreshToken(session: number): Promise<boolean> {
    if (!this.creds || !this.device) return false;
    try {
      await this.freshToken();
      return session === this.session;
    } catch (err) {
      if (session !== this.session) return false;
      if (err instanceof TokenError && !err.retryable) return false;
      this.tokenStale = true;
      this.scheduleRecovery(true);
      return false;
    }
  }

  /**
   * Gets the Device back to registered: a fresh token, then register(). A Device that is still registered
   * (its websocket survived a network blip) only needs the state put back to `ready`: the Voice SDK emits
   * `registered` on a state change only, so nothing else would ever clear `offline`.
   */
  async recover(): Promise<void> {
    if (this.recovering || !this.device || !this.creds) return;
    // A call is reconnecting through a dropped signalling connection: the SDK brings the connection back and
    // registers again by itself (then `registered` makes the phone ready). Registering meanwhile would only
    // compete with it, so recovery waits (the backoff goes on, in case the call ends without that).
    if (this.snapshot.call.reconnecting) {
      this.scheduleRecovery();
      return;
    }
    this.cancelRetry();
    if (this.device.registered && !this.tokenStale) {
      this.markReady();
      return;
    }
    this.recovering = true;
    const session = this.session;
    try {
      if (!(await this.refreshToken(session))) return;
      const device = this.device;
      if (session !== this.session || !device) return;
      // Registered all along: the new token reaches it via updateToken, and again no `registered` follows.
      if (device.registered) return this.markReady();
      await device.register();
    } catch (err) {
      if (session === this.session) {
        const friendly = describeVoiceError(toVoiceError(err));
        if (friendly.kind === 'token') this.setRegistration('error', friendly.message);
        else this.scheduleRecovery();
      }
    } finally {
      this.recovering = false;
    }
  }

  private scheduleRecovery(force = false): void {
    if (this.retryTimer !== undefined || !this.device) return;
    if (!force && this.snapshot.registration === 'error') return;
    const delay = this.retryDelays[Math.min(this.retryCount, this.retryDelays.length - 1)];
    this.retryCount++;
    this.retryTimer = this.setTimer(() => {
      this.retryTimer = undefined;
      void this.recover().then(() => {
        if (this.device && !this.device.registered && this.snapshot.registration !== 'error') this.scheduleRecovery();
      });
    }, delay);
  }

  private cancelRetry(): void {
    if (this.retryTimer !== undefined) this.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** The browser says the network is back: try now instead of waiting for the backoff. */
  networkOnline(): void {
    if (this.device && this.snapshot.registration === 'offline') {
      this.retryCount = 0;
      void this.recover();
    }
  }

  /**
   * The browser says the network is gone: show it at once (calls would fail) instead of waiting for the
   * Voice SDK to notice. This only changes what the page shows; the Device stays as it is, and either it
   * reports `unregistered` (recovery with backoff) or `networkOnline()` finds it still registered and
   * returns to `ready`.
   */
  networkOffline(): void {
    if (this.device && this.snapshot.registration === 'ready') {
      this.setRegistration('offline', describeVoiceError({ code: 31005, message: '' }).message);
    }
  }

  // ---- calls ----

  private dispatch(event: CallEvent): void {
    const before = this.snapshot.call;
    const call = reduceCall(before, event);
    if (call === before) return;
    const finished = call.phase === 'ended' && before.phase !== 'ended';
    const started = isActive(call) && !isActive(before);
    let feedback = this.snapshot.feedback;
    if (finished) {
      // An answered call may be rated; an unanswered one has nothing to rate.
      this.ratedCall = call.connectedAt !== undefined ? this.activeCall : undefined;
      feedback = this.ratedCall ? { status: 'ask' } : NO_FEEDBACK;
      this.activeCall = undefined;
    } else if (started) {
      this.ratedCall = undefined;
      feedback = NO_FEEDBACK;
    }
    this.update({ call, inputVolume: call.phase === 'in-call' ? this.snapshot.inputVolume : 0, feedback });
    if (finished) this.deps.onCallFinished?.();
  }

  /** Sends the rating of the last answered call (1–5, and the main problem if any); resolves whether it was sent. */
  async sendFeedback(score: FeedbackScore, issue?: FeedbackIssue): Promise<boolean> {
    const call = this.ratedCall;
    if (!call || this.snapshot.feedback.status === 'sending') return false;
    this.update({ feedback: { status: 'sending' } });
    try {
      await call.postFeedback(score, issue);
    } catch (err) {
      if (this.ratedCall === call) this.update({ feedback: { status: 'failed', error: toVoiceError(err).message } });
      return false;
    }
    if (this.ratedCall !== call) return true;
    this.ratedCall = undefined;
    this.update({ feedback: { status: 'sent' } });
    return true;
  }

  /** The user would rather not rate the call: Twilio hears that they declined (best effort), and the question goes. */
  declineFeedback(): void {
    const call = this.ratedCall;
    this.ratedCall = undefined;
    if (call && this.snapshot.feedback.status !== 'sending') void call.postFeedback().catch(() => undefined);
    if (this.snapshot.feedback.status !== 'none') this.update({ feedback: NO_FEEDBACK });
  }

  private watch(call: VoiceCall): void {
    const mine = () => this.activeCall === call;
    let localEnd = false;
    call.on('ringing', () => mine() && this.dispatch({ type: 'ringing' }));
    call.on('accept', () => mine() && this.dispatch({ type: 'accepted', at: this.now() }));
    call.on('disconnect', () => {
      if (!mine()) return;
      this.dispatch({ type: localEnd ? 'hangup' : 'remote-hangup', at: this.now() });
    });
    call.on('cancel', () => mine() && this.dispatch({ type: 'cancelled', at: this.now() }));
    call.on('reject', () => mine() && this.dispatch({ type: 'reject', at: this.now() }));
    call.on('error', (err) => mine() && this.dispatch({ type: 'failed', reason: describeVoiceError(err).message, at: this.now() }));
    call.on('volume', (input) => mine() && this.update({ inputVolume: input }));
    call.on('reconnecting', (err) => mine() && this.dispatch({ type: 'reconnecting', cause: reconnectCauseOf(err?.code) }));
    call.on('reconnected', () => mine() && this.dispatch({ type: 'reconnected' }));
    call.on('warning', (name) => mine() && this.dispatch({ type: 'warning', name }));
    call.on('warning-cleared', (name) => mine() && this.dispatch({ type: 'warning-cleared', name }));
    this.markLocalEnd = () => {
      localEnd = true;
    };
  }

  private markLocalEnd: () => void = () => undefined;

  private onIncoming(call: VoiceCall): void {
    // The API's TwiML names the caller and the line (Twilio's From is the caller too, except on some forwarded legs).
    const number = call.customParameters[INCOMING_CALL_PARAMETERS.caller] || call.remote;
    const line = call.customParameters[INCOMING_CALL_PARAMETERS.line] || undefined;
    if (isActive(this.snapshot.call)) {
      // Busy: decline (a teammate may take it; the call log says who did, or that it was missed).
      call.reject();
      this.deps.onCallFinished?.();
      return;
    }
    this.activeCall = call;
    this.watch(call);
    this.dispatch({ type: 'incoming', number, line, at: this.now() });
  }

  /** Dials an E.164 number; the API's outgoing TwiML reads these custom parameters (walkthrough names). */
  async dial(number: string): Promise<void> {
    if (!this.creds) return;
    await this.place(number, { callOutgoingPhoneNumber: number, callerPhoneNumber: this.creds.twilioPhoneNumber });
  }

  /** Calls a teammate of the line by client name: the outgoing webhook dials that Client if it is on our line. */
  async callTeammate(clientName: string): Promise<void> {
    await this.place(`client:${clientName}`, { callOutgoingClient: clientName });
  }

  private async place(number: string, params: Record<string, string>): Promise<void> {
    const device = this.device;
    if (!device || !this.creds || isActive(this.snapshot.call)) return;
    this.dispatch({ type: 'dial', number, at: this.now() });
    try {
      const call = await device.connect(params);
      if (this.snapshot.call.phase !== 'connecting' && this.snapshot.call.phase !== 'ringing') {
        call.disconnect(); // hung up while connecting
        return;
      }
      this.activeCall = call;
      this.watch(call);
    } catch (err) {
      this.dispatch({ type: 'failed', reason: describeVoiceError(toVoiceError(err)).message, at: this.now() });
    }
  }

  accept(): void {
    if (this.snapshot.call.phase === 'incoming') this.activeCall?.accept();
  }

  reject(): void {
    if (this.snapshot.call.phase !== 'incoming' || !this.activeCall) return;
    const call = this.activeCall;
    this.dispatch({ type: 'reject', at: this.now() });
    call.reject();
  }

  hangUp(): void {
    const call = this.activeCall;
    if (this.snapshot.call.phase === 'incoming') {
      this.reject();
      return;
    }
    if (!isActive(this.snapshot.call)) return;
    this.markLocalEnd();
    if (call) call.disconnect();
    // Cover the window where connect() has not resolved yet, and SDKs that emit nothing on local hang-up.
    this.dispatch({ type: 'hangup', at: this.now() });
  }

  setMuted(muted: boolean): void {
    if (this.snapshot.call.phase !== 'in-call' || !this.activeCall) return;
    this.activeCall.mute(muted);
    this.dispatch({ type: 'muted', muted: this.activeCall.isMuted() });
  }

  toggleMute(): void {
    this.setMuted(!this.snapshot.call.muted);
  }

  /** DTMF during a call; returns whether the digits were sent. */
  sendDigits(digits: string): boolean {
    if (this.snapshot.call.phase !== 'in-call' || !this.activeCall || !/^[0-9*#wW]+$/.test(digits)) return false;
    this.activeCall.sendDigits(digits);
    return true;
  }

  /** Clears an ended call's summary. */
  dismissEnded(): void {
    this.dispatch({ type: 'reset' });
  }

  get audio() {
    return this.device?.audio ?? null;
  }
}

function toVoiceError(err: unknown): VoiceError {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return { code: typeof e?.code === 'number' ? e.code : undefined, message: String(e?.message ?? err) };
}
