/**
 * The one boundary between the softphone and the Twilio Voice SDK. `device.ts` implements it with
 * `@twilio/voice-sdk`; e2e builds swap in `fake-device.ts`. Everything else only sees these types.
 */
export interface VoiceError {
  code?: number;
  message: string;
}

export type CallDirection = 'incoming' | 'outgoing';

export interface VoiceCallEvents {
  ringing: () => void;
  accept: () => void;
  disconnect: () => void;
  cancel: () => void;
  reject: () => void;
  error: (error: VoiceError) => void;
  volume: (inputVolume: number, outputVolume: number) => void;
  reconnecting: (error: VoiceError) => void;
  reconnected: () => void;
}

export interface VoiceCall {
  readonly direction: CallDirection;
  /** For incoming calls the caller (E.164 or `client:…`); for outgoing calls the number (or `client:<name>`) dialled. */
  readonly remote: string;
  /**
   * The call's custom parameters: for an incoming call, the TwiML's `<Client><Parameter>`s (the API sends
   * `callerNumber` and `lineNumber`, lambda/core/twiml.ts INCOMING_CALL_PARAMETERS); for an outgoing call, those
   * the page connected with.
   */
  readonly customParameters: Readonly<Record<string, string>>;
  accept(): void;
  reject(): void;
  disconnect(): void;
  mute(muted: boolean): void;
  isMuted(): boolean;
  sendDigits(digits: string): void;
  on<E extends keyof VoiceCallEvents>(event: E, listener: VoiceCallEvents[E]): void;
}

export interface VoiceDeviceEvents {
  registering: () => void;
  registered: () => void;
  unregistered: () => void;
  error: (error: VoiceError) => void;
  incoming: (call: VoiceCall) => void;
  tokenWillExpire: () => void;
}

export interface VoiceAudio {
  readonly outputSelectionSupported: boolean;
  setInputDevice(deviceId: string): Promise<void>;
  setOutputDevice(deviceId: string): Promise<void>;
}

export interface VoiceDevice {
  readonly registered: boolean;
  readonly audio: VoiceAudio | null;
  register(): Promise<void>;
  unregister(): Promise<void>;
  updateToken(token: string): void;
  /** Places a call; `params` reach the outgoing-call webhook (`callOutgoingPhoneNumber`…, or `callOutgoingClient`). */
  connect(params: Record<string, string>): Promise<VoiceCall>;
  destroy(): void;
  on<E extends keyof VoiceDeviceEvents>(event: E, listener: VoiceDeviceEvents[E]): void;
}

export type CreateVoiceDevice = (token: string) => VoiceDevice;
