/**
 * E2E TEST DOUBLE for the Voice SDK adapter (`device.ts`). Only `client/build.ts --e2e` bundles this file
 * (Twilio's cloud cannot be reached from the test machine). It emulates the Device/Call events and
 * exposes `window.__softphoneTest` so tests can ring the phone, hang up remotely and see what was sent.
 */
import { toPreflightReport } from './preflight-report';
import type {
  CreateVoiceDevice,
  FeedbackIssue,
  FeedbackScore,
  RunVoicePreflight,
  VoiceCall,
  VoiceCallEvents,
  VoiceDevice,
  VoiceDeviceEvents,
  VoiceDeviceOptions,
  VoicePreflight,
  VoicePreflightEvents,
} from './types';

type Handlers<T> = { [K in keyof T]?: Array<T[K]> };

class Emitter<T> {
  private handlers: Handlers<T> = {};
  on<E extends keyof T>(event: E, listener: T[E]): void {
    this.handlers[event] ??= [];
    this.handlers[event].push(listener);
  }
  emit<E extends keyof T>(event: E, ...args: unknown[]): void {
    for (const h of this.handlers[event] ?? []) (h as unknown as (...a: unknown[]) => void)(...args);
  }
}

export interface SoftphoneTestControl {
  tokens: string[];
  identity?: string;
  registered: boolean;
  connects: Array<Record<string, string>>;
  digits: string;
  muted: boolean;
  accepted: number;
  rejected: number;
  disconnected: number;
  inputDevice?: string;
  outputDevice?: string;
  /** When true (default) outgoing calls ring, then are answered after `answerDelayMs`. */
  autoAnswer: boolean;
  answerDelayMs: number;
  /**
   * Rings the phone from `from` (Twilio's From), with the custom parameters the API's TwiML gives an incoming call
   * (`callerNumber`, `lineNumber`).
   */
  incoming(from: string, customParameters?: Record<string, string>): void;
  remoteHangup(): void;
  tokenWillExpire(): void;
  dropNetwork(): void;
  failCall(code: number, message: string): void;
  /** The options the page created the latest Device with (config.json's edge, the signalling reconnection time). */
  deviceOptions?: VoiceDeviceOptions;
  /**
   * The signalling connection drops: the Device unregisters and, when the Device was created with a
   * `maxCallSignalingTimeoutMs`, the call reconnects (`reconnecting`, 53001) as the SDK's does; without one, the
   * call fails (31005) and ends.
   */
  dropSignalling(): void;
  /** It is back: the call `reconnected`, and the Device registers again by itself (as the SDK re-registers). */
  restoreSignalling(): void;
  /** The call's media (ICE) connection drops (`warning` ice-connectivity-lost, `reconnecting` 53405) / comes back. */
  dropMedia(): void;
  restoreMedia(): void;
  /** The current call raises / clears a call quality warning (`high-packet-loss`, `constant-audio-input-level`, …). */
  warn(name: string): void;
  clearWarning(name: string): void;
  /** Every `postFeedback` of a call: `{}` when the user declined to rate it. */
  feedback: Array<{ score?: FeedbackScore; issue?: FeedbackIssue }>;
  /** When set, `postFeedback` fails with this message. */
  feedbackError?: string;
  /** Every preflight test the page ran: the token (from the token API), the edge, and whether the page stopped it. */
  preflights: Array<{ token: string; edge: string; stopped: boolean }>;
  /** Ends the latest preflight test with a report shaped as the Voice SDK's `PreflightTest.Report`. */
  completePreflight(report: unknown): void;
  failPreflight(code: number, message: string): void;
}

function decodeIdentity(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('fake device: token is not a JWT');
  const payload = JSON.parse(atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'))) as { grants?: { identity?: string } };
  return payload.grants?.identity;
}

class FakeCall extends Emitter<VoiceCallEvents> implements VoiceCall {
  private muted = false;
  open = true;
  constructor(
    readonly direction: VoiceCall['direction'],
    readonly remote: string,
    readonly customParameters: Readonly<Record<string, string>>,
    private readonly control: SoftphoneTestControl,
    private readonly onEnd: () => void,
  ) {
    super();
  }
  private finish(event: 'disconnect' | 'reject' | 'cancel'): void {
    if (!this.open) return;
    this.open = false;
    this.onEnd();
    this.emit(event);
  }
  accept(): void {
    this.control.accepted++;
    setTimeout(() => this.open && this.emit('accept'), 20);
  }
  reject(): void {
    this.control.rejected++;
    this.finish('reject');
  }
  disconnect(): void {
    this.control.disconnected++;
    this.finish('disconnect');
  }
  remoteEnd(): void {
    this.finish(this.direction === 'incoming' && !this.control.accepted ? 'cancel' : 'disconnect');
  }
  mute(muted: boolean): void {
    this.muted = muted;
    this.control.muted = muted;
  }
  isMuted(): boolean {
    return this.muted;
  }
  sendDigits(digits: string): void {
    this.control.digits += digits;
  }
  async postFeedback(score?: FeedbackScore, issue?: FeedbackIssue): Promise<void> {
    await new Promise((r) => setTimeout(r, 20));
    if (this.control.feedbackError) throw new Error(this.control.feedbackError);
    this.control.feedback.push({ ...(score !== undefined ? { score } : {}), ...(issue !== undefined ? { issue } : {}) });
  }
  fail(code: number, message: string): void {
    if (!this.open) return;
    this.emit('error', { code, message });
    this.finish('disconnect');
  }
}

class FakeDevice extends Emitter<VoiceDeviceEvents> implements VoiceDevice {
  registered = false;
  current?: FakeCall;
  constructor(
    private readonly control: SoftphoneTestControl,
    readonly options?: VoiceDeviceOptions,
  ) {
    super();
  }
  get audio() {
    return {
      outputSelectionSupported: true,
      setInputDevice: async (id: string) => {
        this.control.inputDevice = id;
      },
      setOutputDevice: async (id: string) => {
        this.control.outputDevice = id;
      },
    };
  }
  async register(): Promise<void> {
    this.emit('registering');
    await new Promise((r) => setTimeout(r, 30));
    this.registered = true;
    this.control.registered = true;
    this.emit('registered');
  }
  async unregister(): Promise<void> {
    this.registered = false;
    this.control.registered = false;
    this.emit('unregistered');
  }
  updateToken(token: string): void {
    this.control.identity = decodeIdentity(token);
    this.control.tokens.push(token);
  }
  async connect(params: Record<string, string>): Promise<VoiceCall> {
    this.control.connects.push(params);
    const remote = params.callOutgoingClient ? `client:${params.callOutgoingClient}` : (params.callOutgoingPhoneNumber ?? '');
    const call = new FakeCall('outgoing', remote, { ...params }, this.control, () => (this.current = undefined));
    this.current = call;
    this.control.accepted = 0;
    if (this.control.autoAnswer) {
      setTimeout(() => call.open && call.emit('ringing'), 50);
      setTimeout(() => call.open && call.emit('accept'), this.control.answerDelayMs);
    }
    return call;
  }
  destroy(): void {
    this.registered = false;
    this.control.registered = false;
  }
  ring(from: string, customParameters: Record<string, string>): void {
    const call = new FakeCall('incoming', from, { ...customParameters }, this.control, () => (this.current = undefined));
    this.control.accepted = 0;
    if (!this.current) this.current = call;
    this.emit('incoming', call);
  }
}

class FakePreflight extends Emitter<VoicePreflightEvents> implements VoicePreflight {
  open = true;
  constructor(private readonly record: SoftphoneTestControl['preflights'][number]) {
    super();
    setTimeout(() => this.open && this.emit('connected'), 50);
  }
  end(event: 'completed' | 'failed', arg: unknown): void {
    if (!this.open) return;
    this.open = false;
    this.emit(event, arg);
  }
  stop(): void {
    if (!this.open) return;
    this.record.stopped = true;
    // As the SDK's: stopping fails the test with 31008 (call cancelled).
    this.end('failed', { code: 31008, message: 'Call cancelled' });
  }
}

let latest: FakeDevice | undefined;
let latestPreflight: FakePreflight | undefined;
const openCall = () => (latest?.current?.open ? latest.current : undefined);

const control: SoftphoneTestControl = {
  tokens: [],
  registered: false,
  connects: [],
  digits: '',
  muted: false,
  accepted: 0,
  rejected: 0,
  disconnected: 0,
  autoAnswer: true,
  answerDelayMs: 300,
  incoming: (from, customParameters = {}) => latest?.ring(from, customParameters),
  remoteHangup: () => latest?.current?.remoteEnd(),
  tokenWillExpire: () => latest?.emit('tokenWillExpire'),
  dropNetwork: () => {
    if (!latest) return;
    latest.registered = false;
    control.registered = false;
    latest.emit('unregistered');
  },
  failCall: (code, message) => latest?.current?.fail(code, message),
  feedback: [],
  preflights: [],
  dropSignalling: () => {
    const call = openCall();
    if (call && (latest?.options?.maxCallSignalingTimeoutMs ?? 0) > 0)
      call.emit('reconnecting', { code: 53001, message: 'Signaling connection disconnected' });
    else call?.fail(31005, 'Connection with Twilio was interrupted.');
    control.dropNetwork();
  },
  restoreSignalling: () => {
    openCall()?.emit('reconnected');
    if (latest && !latest.registered) void latest.register();
  },
  dropMedia: () => {
    const call = openCall();
    call?.emit('warning', 'ice-connectivity-lost');
    call?.emit('reconnecting', { code: 53405, message: 'Media connection failed.' });
  },
  restoreMedia: () => {
    const call = openCall();
    call?.emit('warning-cleared', 'ice-connectivity-lost');
    call?.emit('reconnected');
  },
  warn: (name) => openCall()?.emit('warning', name),
  clearWarning: (name) => openCall()?.emit('warning-cleared', name),
  completePreflight: (report) => latestPreflight?.end('completed', toPreflightReport(report)),
  failPreflight: (code, message) => latestPreflight?.end('failed', { code, message }),
};

(window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest = control;

export const createVoiceDevice: CreateVoiceDevice = (token, options) => {
  const device = new FakeDevice(control, options);
  control.deviceOptions = options;
  device.updateToken(token);
  latest = device;
  return device;
};

export const runVoicePreflight: RunVoicePreflight = (token, options) => {
  decodeIdentity(token); // a JWT, or this throws as the SDK would refuse it
  const record = { token, edge: options.edge, stopped: false };
  control.preflights.push(record);
  latestPreflight = new FakePreflight(record);
  return latestPreflight;
};
