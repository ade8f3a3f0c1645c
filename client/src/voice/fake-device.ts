/**
 * E2E TEST DOUBLE for the Voice SDK adapter (`device.ts`). Only `client/build.ts --e2e` bundles this file
 * (Twilio's cloud cannot be reached from the test machine). It emulates the Device/Call events and
 * exposes `window.__softphoneTest` so tests can ring the phone, hang up remotely and see what was sent.
 */
import type { CreateVoiceDevice, VoiceCall, VoiceCallEvents, VoiceDevice, VoiceDeviceEvents } from './types';

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
  fail(code: number, message: string): void {
    if (!this.open) return;
    this.emit('error', { code, message });
    this.finish('disconnect');
  }
}

class FakeDevice extends Emitter<VoiceDeviceEvents> implements VoiceDevice {
  registered = false;
  current?: FakeCall;
  constructor(private readonly control: SoftphoneTestControl) {
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

let latest: FakeDevice | undefined;

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
};

(window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest = control;

export const createVoiceDevice: CreateVoiceDevice = (token) => {
  const device = new FakeDevice(control);
  device.updateToken(token);
  latest = device;
  return device;
};
