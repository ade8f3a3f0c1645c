/** Production adapter: the Twilio Voice SDK behind the small `VoiceDevice` interface. */
import { Call, Device } from '@twilio/voice-sdk';
import { toPreflightReport } from './preflight-report';
import type { CreateVoiceDevice, RunVoicePreflight, VoiceCall, VoiceDevice, VoiceError } from './types';

function toVoiceError(err: unknown): VoiceError {
  const e = err as { code?: unknown; message?: unknown; description?: unknown } | undefined;
  return {
    code: typeof e?.code === 'number' ? e.code : undefined,
    message: String(e?.message ?? e?.description ?? err),
  };
}

function wrapCall(call: Call, direction: VoiceCall['direction'], remote: string): VoiceCall {
  return {
    direction,
    remote,
    customParameters: Object.fromEntries(call.customParameters ?? []),
    accept: () => call.accept(),
    reject: () => call.reject(),
    disconnect: () => call.disconnect(),
    mute: (muted) => call.mute(muted),
    isMuted: () => call.isMuted(),
    sendDigits: (digits) => call.sendDigits(digits),
    postFeedback: (score, issue) => call.postFeedback(score as Call.FeedbackScore | undefined, issue as Call.FeedbackIssue | undefined),
    on(event, listener) {
      const fn = listener as (...args: unknown[]) => void;
      if (event === 'error' || event === 'reconnecting') {
        call.on(event, (err: unknown) => fn(toVoiceError(err)));
      } else if (event === 'warning' || event === 'warning-cleared') {
        // (name, data): the page only needs the name
        call.on(event, (name: unknown) => fn(String(name)));
      } else {
        call.on(event, fn);
      }
    },
  };
}

export const createVoiceDevice: CreateVoiceDevice = (token, options) => {
  const device = new Device(token, {
    closeProtection: 'A call is in progress. Leave the page and end it?',
    codecPreferences: [Call.Codec.Opus, Call.Codec.PCMU],
    appName: 'twilio-softphone-aws',
    logLevel: 'warn',
    // Edge fallback and signalling reconnection: a call outlives a dropped signalling connection for this long.
    ...(options ? { edge: options.edge, maxCallSignalingTimeoutMs: options.maxCallSignalingTimeoutMs } : {}),
  });
  const audio = () => device.audio;
  // The page plays its own ringtone (`tones.ts`); the SDK keeps only its DTMF key sounds.
  audio()?.incoming(false);
  audio()?.outgoing(false);
  audio()?.disconnect(false);
  const adapter: VoiceDevice = {
    get registered() {
      return device.state === Device.State.Registered;
    },
    get audio() {
      const helper = audio();
      if (!helper) return null;
      return {
        outputSelectionSupported: helper.isOutputSelectionSupported,
        setInputDevice: (id: string) => helper.setInputDevice(id),
        setOutputDevice: (id: string) => helper.speakerDevices.set(id),
      };
    },
    register: () => device.register(),
    unregister: () => device.unregister(),
    updateToken: (t) => device.updateToken(t),
    async connect(params) {
      const call = await device.connect({ params });
      const remote = params.callOutgoingClient ? `client:${params.callOutgoingClient}` : (params.callOutgoingPhoneNumber ?? '');
      return wrapCall(call, 'outgoing', remote);
    },
    destroy: () => device.destroy(),
    on(event, listener) {
      const fn = listener as (...args: unknown[]) => void;
      if (event === 'incoming') {
        device.on('incoming', (call: Call) => fn(wrapCall(call, 'incoming', call.parameters.From ?? '')));
      } else if (event === 'error') {
        device.on('error', (err: unknown) => fn(toVoiceError(err)));
      } else {
        device.on(event, fn);
      }
    },
  };
  return adapter;
};

/** `Device.runPreflight`: a test call to the TwiML App of the (short-lived) token, through `edge`. */
export const runVoicePreflight: RunVoicePreflight = (token, options) => {
  const test = Device.runPreflight(token, { edge: options.edge, codecPreferences: [Call.Codec.Opus, Call.Codec.PCMU], logLevel: 'warn' });
  return {
    stop: () => test.stop(),
    on(event, listener) {
      const fn = listener as (...args: unknown[]) => void;
      if (event === 'completed') test.on('completed', (report: unknown) => fn(toPreflightReport(report)));
      else if (event === 'failed') test.on('failed', (err: unknown) => fn(toVoiceError(err)));
      else test.on(event, fn);
    },
  };
};
