/** The call state machine: pure, driven by events from the UI and the Voice SDK adapter. */
import type { CallDirection } from './voice/types';
import type { CallOutcome } from './recent-calls';

export type CallPhase = 'idle' | 'connecting' | 'ringing' | 'incoming' | 'in-call' | 'ended';

export interface CallState {
  phase: CallPhase;
  direction?: CallDirection;
  number?: string;
  /** For an incoming call, the line (E.164) it came in on, when Twilio said. */
  line?: string;
  /** ms epoch when the call was dialled or started ringing in. */
  startedAt?: number;
  /** ms epoch when the call connected. */
  connectedAt?: number;
  endedAt?: number;
  muted: boolean;
  reconnecting: boolean;
  /** While reconnecting: whether the signalling connection to Twilio or the call's audio (media) dropped. */
  reconnectCause?: ReconnectCause;
  /** The call quality warnings the Voice SDK has raised and not yet cleared, by name (see quality.ts). */
  warnings?: readonly string[];
  endReason?: string;
  outcome?: CallOutcome;
}

export type ReconnectCause = 'signalling' | 'media';

export type CallEvent =
  | { type: 'dial'; number: string; at: number }
  | { type: 'ringing' }
  | { type: 'incoming'; number: string; line?: string; at: number }
  | { type: 'accepted'; at: number }
  | { type: 'hangup'; at: number } // we ended it (or cancelled our outgoing call)
  | { type: 'reject'; at: number } // we rejected an incoming call
  | { type: 'remote-hangup'; at: number } // the other side ended it
  | { type: 'cancelled'; at: number } // the caller gave up before we answered
  | { type: 'failed'; reason: string; at: number }
  | { type: 'muted'; muted: boolean }
  | { type: 'reconnecting'; cause?: ReconnectCause }
  | { type: 'reconnected' }
  | { type: 'warning'; name: string }
  | { type: 'warning-cleared'; name: string }
  | { type: 'reset' };

export const IDLE: CallState = { phase: 'idle', muted: false, reconnecting: false };

export function isActive(state: CallState): boolean {
  return state.phase === 'connecting' || state.phase === 'ringing' || state.phase === 'incoming' || state.phase === 'in-call';
}

function end(state: CallState, at: number, endReason: string, outcome: CallOutcome): CallState {
  const { reconnectCause: _cause, warnings: _warnings, ...rest } = state;
  return { ...rest, phase: 'ended', endedAt: at, endReason, outcome, muted: false, reconnecting: false };
}

export function reduceCall(state: CallState, event: CallEvent): CallState {
  switch (event.type) {
    case 'dial':
      if (isActive(state)) return state;
      return { phase: 'connecting', direction: 'outgoing', number: event.number, startedAt: event.at, muted: false, reconnecting: false };
    case 'incoming':
      if (isActive(state)) return state;
      return {
        phase: 'incoming',
        direction: 'incoming',
        number: event.number,
        ...(event.line ? { line: event.line } : {}),
        startedAt: event.at,
        muted: false,
        reconnecting: false,
      };
    case 'ringing':
      return state.phase === 'connecting' ? { ...state, phase: 'ringing' } : state;
    case 'accepted':
      if (state.phase === 'connecting' || state.phase === 'ringing' || state.phase === 'incoming') {
        return { ...state, phase: 'in-call', connectedAt: event.at };
      }
      return state;
    case 'hangup':
      if (state.phase === 'in-call') return end(state, event.at, 'You hung up', 'answered');
      if (state.phase === 'connecting' || state.phase === 'ringing') return end(state, event.at, 'Call cancelled', 'unanswered');
      if (state.phase === 'incoming') return end(state, event.at, 'Call rejected', 'rejected');
      return state;
    case 'reject':
      return state.phase === 'incoming' ? end(state, event.at, 'Call rejected', 'rejected') : state;
    case 'remote-hangup':
      if (state.phase === 'in-call') return end(state, event.at, 'The other side hung up', 'answered');
      if (state.phase === 'connecting' || state.phase === 'ringing') return end(state, event.at, 'No answer', 'unanswered');
      if (state.phase === 'incoming') return end(state, event.at, 'Missed call', 'missed');
      return state;
    case 'cancelled':
      return state.phase === 'incoming' ? end(state, event.at, 'Missed call: the caller hung up', 'missed') : state;
    case 'failed':
      return isActive(state) ? end(state, event.at, `Call failed: ${event.reason}`, state.connectedAt ? 'answered' : 'failed') : state;
    case 'muted':
      return state.phase === 'in-call' ? { ...state, muted: event.muted } : state;
    case 'reconnecting':
      return state.phase === 'in-call' ? { ...state, reconnecting: true, ...(event.cause ? { reconnectCause: event.cause } : {}) } : state;
    case 'reconnected': {
      if (!state.reconnecting) return state;
      const { reconnectCause: _cause, ...rest } = state;
      return { ...rest, reconnecting: false };
    }
    case 'warning':
      if (!isActive(state) || state.warnings?.includes(event.name)) return state;
      return { ...state, warnings: [...(state.warnings ?? []), event.name] };
    case 'warning-cleared':
      if (!state.warnings?.includes(event.name)) return state;
      return { ...state, warnings: state.warnings.filter((w) => w !== event.name) };
    case 'reset':
      return isActive(state) ? state : IDLE;
  }
}

/** Seconds connected so far (or in total once ended). */
export function connectedSeconds(state: CallState, now: number): number {
  if (!state.connectedAt) return 0;
  const until = state.phase === 'ended' ? (state.endedAt ?? now) : now;
  return Math.max(0, Math.floor((until - state.connectedAt) / 1000));
}

/** `m:ss`, or `h:mm:ss` from an hour on. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const RECONNECT_CAUSES: Record<ReconnectCause, string> = {
  signalling: 'The connection to the phone service dropped; the call stays on while it comes back.',
  media: "The call's audio connection dropped; the call stays on while it comes back.",
};

/**
 * What a `reconnecting` error code says dropped: 53001 and the other 530xx–533xx signalling errors, or the media
 * (534xx, e.g. 53405, and anything else: the SDK reconnects a call's media on ICE failures).
 */
export function reconnectCauseOf(code: number | undefined): ReconnectCause {
  return code !== undefined && code >= 53000 && code < 53400 ? 'signalling' : 'media';
}

/** The short label shown (and announced) for a state. */
export function callLabel(state: CallState): string {
  switch (state.phase) {
    case 'idle':
      return 'Ready to call';
    case 'connecting':
      return 'Connecting…';
    case 'ringing':
      return 'Ringing…';
    case 'incoming':
      return 'Incoming call';
    case 'in-call':
      if (state.reconnecting) return `Reconnecting…${state.reconnectCause ? ` ${RECONNECT_CAUSES[state.reconnectCause]}` : ''}`;
      return state.muted ? 'In call (muted)' : 'In call';
    case 'ended':
      return `Call ended: ${state.endReason ?? 'ended'}`;
  }
}
