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
  /**
   * The call is reconnecting: the media (ICE) connection dropped, or the signalling connection to Twilio did
   * (53001; only while `maxCallSignalingTimeoutMs` lets the call outlive it).
   */
  reconnecting: (error: VoiceError) => void;
  reconnected: () => void;
  /** A call quality warning the Voice SDK raised (`high-rtt`, `high-jitter`, `high-packet-loss`, `low-mos`, `constant-audio-input-level`, …). */
  warning: (name: string) => void;
  /** That warning's condition is over. */
  'warning-cleared': (name: string) => void;
}

/** The rating of a call sent with `postFeedback` (Twilio's `Call.FeedbackScore`). */
export type FeedbackScore = 1 | 2 | 3 | 4 | 5;
/** The main problem of a call (Twilio's `Call.FeedbackIssue`). */
export type FeedbackIssue = 'audio-latency' | 'choppy-audio' | 'dropped-call' | 'echo' | 'noisy-call' | 'one-way-audio';

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
  /** Sends the user's rating of the call to Twilio (Voice Insights); without a score, that they declined to rate it. */
  postFeedback(score?: FeedbackScore, issue?: FeedbackIssue): Promise<void>;
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

/** How the Device connects (config.json's `edge`, and how long a call waits for a dropped signalling connection). */
export interface VoiceDeviceOptions {
  /** Twilio edge location(s), in order of preference (edge fallback); `roaming` picks the nearest. */
  edge: string | string[];
  /** How long a call survives a dropped signalling connection while the SDK reconnects it (ms; 0 = not at all). */
  maxCallSignalingTimeoutMs: number;
}

export type CreateVoiceDevice = (token: string, options?: VoiceDeviceOptions) => VoiceDevice;

/** Timing and quality figures of a preflight test (`min`/`max`/`average`). */
export interface PreflightStats {
  average: number;
  max: number;
  min: number;
}

/** The ICE candidate a preflight test's media went through (WebRTC RTCIceCandidateStats, the fields used here). */
export interface PreflightCandidate {
  /** `host` (direct), `srflx`/`prflx` (through a NAT router), `relay` (through a TURN server). */
  candidateType?: string;
  /** `udp` or `tcp`. */
  protocol?: string;
  /** The browser's guess of the network: `wifi`, `ethernet`, `cellular`, `vpn`, … (Chromium only). */
  networkType?: string;
  /** For a relay: how the browser reached it (`udp`, `tcp`, `tls`). */
  relayProtocol?: string;
}

/** What a preflight test found: the parts of the Voice SDK's `PreflightTest.Report` the page shows. */
export interface PreflightReport {
  /** The SDK's verdict from the average MOS. */
  callQuality?: 'excellent' | 'great' | 'good' | 'fair' | 'degraded';
  /** The edge the test call connected through, and the one asked for. */
  edge?: string;
  selectedEdge?: string;
  /** Round-trip time (ms), jitter (ms) and MOS (1 to about 4.5). */
  stats?: { rtt: PreflightStats; jitter: PreflightStats; mos: PreflightStats };
  /** Whether the media needed a TURN relay. */
  isTurnRequired?: boolean;
  localCandidate?: PreflightCandidate;
  /** How long connecting took (ms): signalling, ICE, DTLS, the peer connection. */
  networkTiming: { signaling?: number; ice?: number; dtls?: number; peerConnection?: number };
  warnings: Array<{ name: string; description: string }>;
  callSid?: string;
}

export interface VoicePreflightEvents {
  connected: () => void;
  completed: (report: PreflightReport) => void;
  failed: (error: VoiceError) => void;
}

/** A running preflight test (`Device.runPreflight`): a short test call to a TwiML App that echoes what it hears. */
export interface VoicePreflight {
  stop(): void;
  on<E extends keyof VoicePreflightEvents>(event: E, listener: VoicePreflightEvents[E]): void;
}

export type RunVoicePreflight = (token: string, options: { edge: string }) => VoicePreflight;
