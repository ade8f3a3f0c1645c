/**
 * Where an incoming call goes, step by step, so that no caller is lost: the line's members ring (all at once,
 * or one after another), then the forward number (the person must press 1 to accept), then voicemail, then a
 * spoken apology. Outside the line's hours a call goes straight to voicemail.
 *
 * Pure: `firstStep` decides the answer to the incoming-call webhook, `nextStep` the answer to each `<Dial>`'s
 * (or `<Record>`'s) action webhook, whose URL carries the stage reached (`CallStage`, signed by Twilio with the
 * rest of the URL). Every path ends after at most max(members, 1) + 3 webhooks.
 *
 * The first step never forwards: a line with no device to ring hands the decision to the action webhook
 * (`continue`, a `<Redirect>`), so only that webhook needs the destination policy (and its phone metadata).
 */
import { isOpen } from './business-hours';
import { lineHours, type LineSettings } from './line';

/** Where the call stands when an action webhook comes back; rides in the action URL's query. */
export type CallStage =
  /** a `<Dial>` to the members ended; `next` is the index of the member to ring next (sequential) */
  | { stage: 'ring'; next: number }
  /** the `<Dial>` to the forward number ended */
  | { stage: 'forward' }
  /** the caller's message was recorded */
  | { stage: 'recorded' };

export type FlowStep =
  | { kind: 'ring'; clients: string[]; timeout: number; after: CallStage }
  | { kind: 'forward'; number: string; timeout: number; after: CallStage }
  /** `greeting` undefined: the app's own words in `language` */
  | { kind: 'voicemail'; greeting?: string; language: string; after: CallStage }
  | { kind: 'apology'; language: string }
  /** nothing to ring: go straight on to the action webhook, which decides the rest */
  | { kind: 'continue'; after: CallStage }
  | { kind: 'goodbye'; language: string }
  | { kind: 'hangup' };

export interface LineCall {
  settings: LineSettings;
  /** the members' client names, in ring order */
  members: string[];
  /** the forward number passes the destination policy now (it is checked when set and again when dialled) */
  forwardAllowed: boolean;
}

/** How a `<Dial>` ended, as its action webhook reports it. */
export interface DialOutcome {
  /** DialCallStatus: completed, answered, busy, no-answer, failed, canceled */
  dialCallStatus: string;
  /** DialBridged: whether the two legs were connected (a forward declined at the "press 1" prompt is not) */
  bridged?: boolean;
  /** the parent call's CallStatus: completed or canceled once the caller has hung up */
  callStatus?: string;
}

/** What to do after the members (in ring order starting at `from`) were not reached. */
function afterMembers(call: LineCall, from: number): FlowStep {
  const { settings, members } = call;
  if (settings.strategy === 'sequential' && from < members.length) {
    return { kind: 'ring', clients: [members[from]], timeout: settings.ringSeconds, after: { stage: 'ring', next: from + 1 } };
  }
  if (settings.forwardTo && call.forwardAllowed) {
    return { kind: 'forward', number: settings.forwardTo, timeout: settings.ringSeconds, after: { stage: 'forward' } };
  }
  return voicemailOrApology(settings);
}

function voicemailOrApology(settings: LineSettings): FlowStep {
  return settings.voicemail
    ? {
        kind: 'voicemail',
        ...(settings.greeting !== undefined ? { greeting: settings.greeting } : {}),
        language: settings.language,
        after: { stage: 'recorded' },
      }
    : { kind: 'apology', language: settings.language };
}

/** The answer to the incoming-call webhook. */
export function firstStep(call: LineCall, now: Date): FlowStep {
  const hours = lineHours(call.settings);
  if (hours && !isOpen(hours, now)) return voicemailOrApology(call.settings);
  if (call.members.length === 0) return { kind: 'continue', after: { stage: 'ring', next: 0 } };
  if (call.settings.strategy === 'sequential') return afterMembers(call, 0);
  return { kind: 'ring', clients: [...call.members], timeout: call.settings.ringSeconds, after: { stage: 'ring', next: call.members.length } };
}

/** True when the `<Dial>` connected the caller with someone (a bridged call that then ended). */
function answered(outcome: DialOutcome): boolean {
  if (outcome.bridged !== undefined) return outcome.bridged;
  return outcome.dialCallStatus === 'completed' || outcome.dialCallStatus === 'answered';
}

/** The answer to an action webhook: the call reached `stage` and its `<Dial>` ended as `outcome`. */
export function nextStep(call: LineCall, stage: CallStage, outcome: DialOutcome): FlowStep {
  // The caller hung up: Twilio ignores whatever comes next.
  if (outcome.callStatus === 'completed' || outcome.callStatus === 'canceled') return { kind: 'hangup' };
  switch (stage.stage) {
    case 'recorded':
      return { kind: 'goodbye', language: call.settings.language };
    case 'forward':
      return answered(outcome) ? { kind: 'hangup' } : voicemailOrApology(call.settings);
    case 'ring':
      return answered(outcome) ? { kind: 'hangup' } : afterMembers(call, stage.next);
  }
}

/** `CallStage` ↔ the action URL's query parameters. */
export function stageToQuery(stage: CallStage): Record<string, string> {
  return stage.stage === 'ring' ? { stage: 'ring', next: String(stage.next) } : { stage: stage.stage };
}

/** The stage from an action URL's query; undefined when it is not one of ours. */
export function stageFromQuery(query: Record<string, string>): CallStage | undefined {
  if (query.stage === 'forward' || query.stage === 'recorded') return { stage: query.stage };
  if (query.stage === 'ring' && /^\d{1,2}$/.test(query.next ?? '')) return { stage: 'ring', next: Number(query.next) };
  return undefined;
}
