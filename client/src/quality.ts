/**
 * Call quality in plain words: the Voice SDK's call quality warnings (Call `warning` / `warning-cleared`, named
 * as Twilio's Voice Insights SDK events), and the problems a user can pick when rating a call
 * (`Call.postFeedback`'s `Call.FeedbackIssue`).
 */
import type { FeedbackIssue, FeedbackScore } from './voice/types';

export interface WarningText {
  /** Shown (and announced) while the warning lasts. */
  problem: string;
  /** Announced when it clears. */
  cleared: string;
}

const SLOW: WarningText = {
  problem: 'Your connection is slow (high delay): expect pauses, and you may talk over each other.',
  cleared: 'The delay on your connection is back to normal.',
};
const PACKET_LOSS: WarningText = {
  problem: 'Your connection is losing audio (packet loss): parts of the call may cut out.',
  cleared: 'Your connection has stopped losing audio.',
};
const NO_MIC_INPUT: WarningText = {
  problem: 'Your microphone is not picking up any sound: check that it is plugged in, switched on and not muted, or pick another in Audio settings.',
  cleared: 'Your microphone is picking up sound again.',
};

/** The warnings the Voice SDK 2.x raises during a call, by name (`high-` / `low-` / `constant-` + the metric). */
export const CALL_WARNINGS: Readonly<Record<string, WarningText>> = {
  'high-rtt': SLOW,
  'high-jitter': {
    problem: 'Your connection is unsteady (high jitter): the audio may sound choppy or robotic.',
    cleared: 'Your connection is steady again.',
  },
  'high-packet-loss': PACKET_LOSS,
  'high-packets-lost-fraction': PACKET_LOSS,
  'low-mos': {
    problem: 'The call quality is poor: you and the other side may hear each other badly.',
    cleared: 'The call quality is back to normal.',
  },
  'constant-audio-input-level': NO_MIC_INPUT,
  'constant-audio-level': NO_MIC_INPUT,
  'low-bytes-received': {
    problem: 'No audio is arriving from the other side: your connection may have stopped.',
    cleared: 'Audio is arriving from the other side again.',
  },
  'low-bytes-sent': {
    problem: 'Your audio is not being sent: your connection or your microphone may have stopped.',
    cleared: 'Your audio is being sent again.',
  },
};

/**
 * Warnings not shown in the list: `ice-connectivity-lost` comes with the call's own `reconnecting` (the call
 * status says so), and the SDK raises no event for `constant-audio-output-level`.
 */
const NOT_LISTED = new Set(['ice-connectivity-lost', 'constant-audio-output-level']);

/** Whether a warning is shown in the call's list of problems. */
export function isListedWarning(name: string): boolean {
  return !NOT_LISTED.has(name);
}

export function describeWarning(name: string): WarningText {
  return (
    CALL_WARNINGS[name] ?? {
      problem: `The call quality dropped (${name}).`,
      cleared: `The call quality is back to normal (${name}).`,
    }
  );
}

/** The listed warnings, in plain words, one sentence each (two warnings with the same text are said once). */
export function warningSentences(names: readonly string[]): string[] {
  return [...new Set(names.filter(isListedWarning).map((n) => describeWarning(n).problem))];
}

/** The 1–5 rating, worst first: the labels of the choices. */
export const FEEDBACK_SCORES: ReadonlyArray<{ score: FeedbackScore; label: string }> = [
  { score: 1, label: 'Very bad' },
  { score: 2, label: 'Bad' },
  { score: 3, label: 'Okay' },
  { score: 4, label: 'Good' },
  { score: 5, label: 'Excellent' },
];

/** The problems a rating can name (Twilio's `Call.FeedbackIssue` values), in plain words. */
export const FEEDBACK_ISSUES: ReadonlyArray<{ issue: FeedbackIssue; label: string }> = [
  { issue: 'choppy-audio', label: 'The audio was choppy or broken up' },
  { issue: 'one-way-audio', label: 'Only one of us could hear the other' },
  { issue: 'audio-latency', label: 'There was a delay: we talked over each other' },
  { issue: 'echo', label: 'There was an echo' },
  { issue: 'noisy-call', label: 'There was noise or static' },
  { issue: 'dropped-call', label: 'The call dropped' },
];

export function isFeedbackScore(value: unknown): value is FeedbackScore {
  return FEEDBACK_SCORES.some((s) => s.score === value);
}

export function isFeedbackIssue(value: unknown): value is FeedbackIssue {
  return FEEDBACK_ISSUES.some((i) => i.issue === value);
}
