/**
 * The call log's rules, pure: a call's record is what its events say, merged so that the result does not depend
 * on the order they arrive in, nor on how often (Twilio posts each status callback as its own request, in no
 * guaranteed order, and may repeat one). Every field merges by a rule that is commutative, associative and
 * idempotent (a maximum in a total order, a minimum, a union), so folding any shuffle of the events, with any
 * repeats, gives the same record (test/lambda/call-log.property.test.ts).
 *
 * Events come from Twilio's status callbacks (`statusEventFromCallback`: every `<Dial>` leg our TwiML makes, and
 * the parent calls through the numbers' and the TwiML App's status callback) and from our own handlers (a
 * voicemail was left, the outgoing handler refused the call). `callView` derives what people see: direction,
 * the other party, who answered or placed it, times, duration and the outcome.
 */
import type { CallDirection, CallEvent, CallFacts, CallOutcome, CallRecord, CallStatus, LegRole, LegState } from '../ports';
import { isE164 } from './e164';
import { isValidClientName } from './phone-rules';

export type { CallDirection, CallEvent, CallFacts, CallOutcome, CallRecord, CallStatus, LegRole, LegState };

/** Twilio's call statuses in lifecycle order: a leg's status never goes back (the rank orders its events first). */
export const CALL_STATUS_RANK: Readonly<Record<CallStatus, number>> = {
  queued: 0,
  initiated: 1,
  ringing: 2,
  'in-progress': 3,
  completed: 4,
  busy: 4,
  'no-answer': 4,
  canceled: 4,
  failed: 4,
};

export function isCallStatus(value: unknown): value is CallStatus {
  return typeof value === 'string' && Object.hasOwn(CALL_STATUS_RANK, value);
}

export function isTerminalStatus(status: CallStatus): boolean {
  return CALL_STATUS_RANK[status] === 4;
}

/** The roles our TwiML names in a status callback URL (`?leg=`); the parent call's callback has none. */
export const DIAL_LEG_ROLES = ['member', 'forward', 'callee'] as const;
export type DialLegRole = (typeof DIAL_LEG_ROLES)[number];

/** Twilio's CallSid: `CA` and 32 hex digits (letters and digits accepted: the walkthrough's examples use placeholders). */
const CALL_SID = /^CA[0-9a-zA-Z]{32}$/;
/** Twilio's RecordingSid (a voicemail's id): `RE` and 32 lowercase hex digits. */
const RECORDING_SID = /^RE[0-9a-f]{32}$/;
const SMALL_NUMBER = /^\d{1,9}$/;

export function isCallSid(value: unknown): value is string {
  return typeof value === 'string' && CALL_SID.test(value);
}

export function isRecordingSid(value: unknown): value is string {
  return typeof value === 'string' && RECORDING_SID.test(value);
}

const minDefined = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
const maxDefined = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.max(a, b));
/** The smaller of two optional strings (a deterministic choice when two events disagree). */
const minText = <T extends string>(a: T | undefined, b: T | undefined): T | undefined =>
  a === undefined || a === '' ? b : b === undefined || b === '' ? a : a < b ? a : b;

function compareOrder(a: LegState['order'], b: LegState['order']): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Which time field a status sets. */
function timeField(status: CallStatus): 'initiatedAt' | 'ringingAt' | 'answeredAt' | 'endedAt' {
  if (isTerminalStatus(status)) return 'endedAt';
  if (status === 'in-progress') return 'answeredAt';
  if (status === 'ringing') return 'ringingAt';
  return 'initiatedAt';
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function mergeLeg(leg: LegState | undefined, event: Extract<CallEvent, { kind: 'status' }>): LegState {
  const order: LegState['order'] = [CALL_STATUS_RANK[event.status], event.sequence ?? -1, event.at];
  const field = timeField(event.status);
  const fresh: LegState = { role: event.role, to: event.to, status: event.status, order, [field]: event.at };
  if (event.durationSeconds !== undefined) fresh.durationSeconds = event.durationSeconds;
  if (!leg) return fresh;
  const cmp = compareOrder(order, leg.order);
  const latest = cmp > 0 || (cmp === 0 && event.status < leg.status) ? fresh : leg;
  return withoutUndefined({
    role: minText(leg.role, event.role) as LegRole,
    to: minText(leg.to, event.to) ?? '',
    status: latest.status,
    order: latest.order,
    initiatedAt: minDefined(leg.initiatedAt, fresh.initiatedAt),
    ringingAt: minDefined(leg.ringingAt, fresh.ringingAt),
    answeredAt: minDefined(leg.answeredAt, fresh.answeredAt),
    endedAt: minDefined(leg.endedAt, fresh.endedAt),
    durationSeconds: maxDefined(leg.durationSeconds, fresh.durationSeconds),
  });
}

/** The record after one more event (`record` undefined: the call's first event). Never mutates its inputs. */
export function mergeCallEvent(record: CallRecord | undefined, event: CallEvent): CallRecord {
  const base: CallRecord = record ?? { callSid: event.callSid, legs: {}, firstAt: event.at };
  const next: CallRecord = withoutUndefined({
    callSid: base.callSid,
    line: minText(base.line, event.line),
    direction: minText(base.direction, event.direction),
    remote: minText(base.remote, event.remote),
    placedBy: minText(base.placedBy, event.placedBy),
    legs: { ...base.legs },
    voicemail: base.voicemail || event.kind === 'voicemail' || undefined,
    refused: minText(base.refused, event.kind === 'refused' ? event.reason : undefined),
    firstAt: Math.min(base.firstAt, event.at),
  });
  if (event.kind === 'status') next.legs[event.legSid] = mergeLeg(base.legs[event.legSid], event);
  return next;
}

/**
 * Whether two records say the same (a stored map comes back with its keys in any order): equal as JSON would write
 * them with their keys sorted, an undefined member being absent. Compared in place, without writing them out: a
 * status callback asks this of every record it reads.
 */
export function sameCallRecord(a: CallRecord, b: CallRecord): boolean {
  return sameAsJson(a, b);
}

function sameAsJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const aIsObject = typeof a === 'object' && a !== null;
  const bIsObject = typeof b === 'object' && b !== null;
  if (!aIsObject || !bIsObject) return !aIsObject && !bIsObject && JSON.stringify(a) === JSON.stringify(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameAsJson(a[i], b[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const key of Object.keys(x)) {
    if (x[key] === undefined) continue;
    defined += 1;
    if (!Object.hasOwn(y, key) || !sameAsJson(x[key], y[key])) return false;
  }
  for (const key of Object.keys(y)) if (y[key] !== undefined) defined -= 1;
  return defined === 0;
}

/** Where a status callback came from, as the URL our TwiML gave Twilio says (query parameters). */
export interface CallbackQuery {
  leg?: string;
  line?: string;
  caller?: string;
  client?: string;
}

/** The query of the status callback URL a `<Dial>` leg of ours reports to. */
export function dialLegQuery(leg: DialLegRole, facts: { line: string; caller?: string; client?: string }): Record<string, string> {
  return withoutUndefined({ leg, line: facts.line, caller: facts.caller, client: facts.client }) as Record<string, string>;
}

const MAX_PARTY_LENGTH = 128;
const party = (value: string | undefined): string | undefined =>
  value !== undefined && value !== '' && value.length <= MAX_PARTY_LENGTH ? value : undefined;

/**
 * A status callback's parameters (Twilio: CallSid, ParentCallSid, CallStatus, SequenceNumber, Timestamp in RFC
 * 2822, CallDuration, From, To) as an event; undefined when it is not one we can log (no call SID, an unknown
 * status, a leg role or line that is not ours). A callback without a Timestamp is placed at `receivedAt`.
 * The parent call's callback carries no line: the handler finds it (`CallFacts`) and passes it in `parentFacts`.
 */
export function statusEventFromCallback(
  params: Record<string, string>,
  query: CallbackQuery,
  receivedAt: number,
  parentFacts: CallFacts = {},
): Extract<CallEvent, { kind: 'status' }> | undefined {
  const legSid = params.CallSid;
  const status = params.CallStatus;
  if (!isCallSid(legSid) || !isCallStatus(status)) return undefined;
  const timestamp = Date.parse(params.Timestamp ?? '');
  const at = Number.isFinite(timestamp) ? timestamp : receivedAt;
  const sequence = SMALL_NUMBER.test(params.SequenceNumber ?? '') ? Number(params.SequenceNumber) : undefined;
  const durationSeconds = SMALL_NUMBER.test(params.CallDuration ?? '') ? Number(params.CallDuration) : undefined;
  const common = withoutUndefined({ legSid, status, at, sequence, durationSeconds, kind: 'status' as const });
  const to = party(params.To) ?? '';

  if (query.leg === undefined) {
    // The parent call (the number's or the TwiML App's callback): it is the call.
    if (params.ParentCallSid !== undefined) return undefined;
    return { ...common, ...withoutUndefined(parentFacts), callSid: legSid, role: 'caller', to };
  }
  const parent = params.ParentCallSid;
  const role = query.leg as DialLegRole;
  if (!isCallSid(parent) || !(DIAL_LEG_ROLES as readonly string[]).includes(role) || !isE164(query.line ?? '')) return undefined;
  const line = query.line as string;
  if (role === 'callee') {
    const placedBy = query.client;
    if (!isValidClientName(placedBy ?? '')) return undefined;
    const direction: CallDirection = to.startsWith('client:') ? 'internal' : 'outgoing';
    return withoutUndefined({ ...common, callSid: parent, role, to, line, direction, placedBy, remote: party(to) });
  }
  return withoutUndefined({ ...common, callSid: parent, role, to, line, direction: 'incoming' as const, remote: party(query.caller) });
}

// ---------------------------------------------------------------------------------------------------------------
// What people see

export interface CallLegView {
  sid: string;
  role: LegRole;
  to: string;
  status: CallStatus;
}

export interface CallView {
  callSid: string;
  line: string;
  direction: CallDirection;
  /** the other party: a number, `anonymous`, or `client:<teammate>` */
  remote: string;
  /** who answered (incoming) or placed (outgoing, internal) it */
  member?: string;
  /** ISO-8601 */
  startedAt: string;
  answeredAt?: string;
  endedAt?: string;
  /** how long the connected parties talked, seconds */
  durationSeconds?: number;
  outcome: CallOutcome;
  /** the refusal's reason, when refused */
  refusedBecause?: string;
  legs: CallLegView[];
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
const connected = (leg: LegState): boolean => leg.answeredAt !== undefined || leg.status === 'completed' || leg.status === 'in-progress';
const clientOf = (to: string): string | undefined => (to.startsWith('client:') ? to.slice('client:'.length) : undefined);

/** Whether the call is over: its parent call ended, or (without word of it) every leg known has. */
export function callEnded(record: CallRecord): boolean {
  const legs = Object.values(record.legs);
  const caller = legs.find((l) => l.role === 'caller');
  if (caller) return isTerminalStatus(caller.status);
  return record.refused !== undefined || (legs.length > 0 && legs.every((l) => isTerminalStatus(l.status)));
}

const directionOf = (record: CallRecord): CallDirection => record.direction ?? (record.placedBy !== undefined ? 'outgoing' : 'incoming');
/** A leg that took the call: a member or a forwarded number that connected. */
const answeredBy = (leg: LegState): boolean => leg.role !== 'caller' && connected(leg);
/** A leg whose failure fails the call: the caller's, or the dialled number's of an outgoing call. */
const failsCall = (leg: LegState): boolean => leg.status === 'failed' && (leg.role === 'caller' || leg.role === 'callee');

/** The call as the page and the CLI show it. */
export function callView(record: CallRecord): CallView {
  const entries = Object.entries(record.legs).sort(([a], [b]) => (a < b ? -1 : 1));
  const legs = entries.map(([sid, leg]) => ({ sid, leg }));
  const direction = directionOf(record);
  const answering = legs
    .filter(({ leg }) => answeredBy(leg))
    .sort((a, b) => (a.leg.answeredAt ?? a.leg.order[2]) - (b.leg.answeredAt ?? b.leg.order[2]))[0];
  const ended = callEnded(record);
  const endedAt = ended ? Math.max(...legs.map(({ leg }) => leg.endedAt ?? 0), 0) || undefined : undefined;
  const failed = legs.some(({ leg }) => failsCall(leg));

  let outcome: CallOutcome;
  if (record.refused !== undefined) outcome = 'refused';
  else if (answering) outcome = answering.leg.role === 'forward' ? 'forwarded' : 'answered';
  else if (record.voicemail) outcome = 'voicemail';
  else if (failed) outcome = 'failed';
  else if (ended) outcome = 'missed';
  else outcome = 'in-progress';

  const member = direction === 'incoming' ? (answering ? clientOf(answering.leg.to) : undefined) : record.placedBy;
  return withoutUndefined({
    callSid: record.callSid,
    line: record.line ?? '',
    direction,
    remote: record.remote ?? '',
    member,
    startedAt: iso(record.firstAt) as string,
    answeredAt: iso(answering?.leg.answeredAt),
    endedAt: iso(endedAt),
    durationSeconds: answering?.leg.durationSeconds,
    outcome,
    refusedBecause: record.refused,
    legs: legs.map(({ sid, leg }) => ({ sid, role: leg.role, to: leg.to, status: leg.status })),
  });
}

/** A missed call a person should see: incoming, nobody answered, no voicemail left. */
export function isMissed(view: CallView): boolean {
  return view.direction === 'incoming' && view.outcome === 'missed';
}

/**
 * `isMissed(callView(record))` without building the view: incoming, not refused, nobody answered (no member or
 * forwarded leg connected), no voicemail, no failed caller or callee leg, and over. The call log's unseen count
 * reads up to 100 records per request (lambda/handlers/calls.ts), where the views were most of its garbage.
 */
export function isMissedRecord(record: CallRecord): boolean {
  if (directionOf(record) !== 'incoming' || record.refused !== undefined || record.voicemail) return false;
  return !Object.values(record.legs).some((leg) => answeredBy(leg) || failsCall(leg)) && callEnded(record);
}

/**
 * Whether a change of a call's record (`before` → `after`, `before` undefined for its first event) made it a
 * missed call: true only on that transition, so a repeated callback, or a later event of a call already missed,
 * is not counted again (the MissedCalls metric).
 */
export function becameMissed(before: CallRecord | undefined, after: CallRecord): boolean {
  return isMissedRecord(after) && !(before !== undefined && isMissedRecord(before));
}
