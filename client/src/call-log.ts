/**
 * Recent calls: the client of `POST {apiBaseUrl}/softphone/calls` (`CallLogClient`: the line's call log, which
 * the API builds from Twilio's status callbacks), and the list the page shows (`RecentCalls`): the line's calls
 * newest first, the first page kept fresh by polling while the page is visible, older pages on request ("Show
 * more"), how many missed calls this device has not seen (cleared by `markSeen`), and this browser's copy
 * (recent-calls.ts `RecentCallsCache`) shown while the server cannot be asked. `describeCall` says what an entry
 * shows, in words. No DOM here; the UI subscribes to snapshots. Timers and visibility are injected so the polling
 * is unit-tested without waiting.
 */
import type { CallDirection, CallOutcome, CallView } from '../../lambda/core/call-log';
import { API_PATHS } from '../../lambda/core/paths';
import { field, type PageApi, type PageApiErrorKind } from './page-api';
import { callBackTarget, describeParty, teammateOf } from './phone-format';
import { PolledPanel, type PollingEnv, toPageError } from './poller';
import type { CountryCode } from 'libphonenumber-js/min';

/** A call of the line's log as the page keeps it (the API's CallView without its legs, which the page never shows). */
export type LoggedCall = Omit<CallView, 'legs'>;

export interface CallLogPage {
  /** the line's number (E.164) */
  line: string;
  /** newest first */
  calls: LoggedCall[];
  /** where the next (older) page starts; none when this is the last */
  cursor?: string;
  /** the device's "seen" mark (ISO-8601), if it ever set one */
  seenUntil?: string;
  /** incoming missed calls of this page newer than the mark */
  unseenMissed: number;
}

/** The API's page size: 20 unless asked, 50 at most (lambda/handlers/calls.ts CALLS_PAGE). */
export const CALL_LOG_PAGE_SIZE = 20;

const CALL_SID = /^CA[0-9a-f]{32}$/;
const DIRECTIONS: readonly CallDirection[] = ['incoming', 'outgoing', 'internal'];
const OUTCOMES: readonly CallOutcome[] = ['answered', 'missed', 'voicemail', 'forwarded', 'refused', 'failed', 'in-progress'];

function time(o: Record<string, unknown>, name: string): string {
  const v = field.string(o, name);
  if (Number.isNaN(Date.parse(v))) throw new Error(`${name} is not a time`);
  return v;
}

function optionalTime(o: Record<string, unknown>, name: string): string | undefined {
  return o[name] === undefined || o[name] === null ? undefined : time(o, name);
}

/** One call of the API's answer (or of the cache); throws when it is not what the API promises. */
export function parseLoggedCall(o: Record<string, unknown>): LoggedCall {
  const callSid = field.string(o, 'callSid');
  if (!CALL_SID.test(callSid)) throw new Error('callSid is not a call SID');
  const direction = field.string(o, 'direction') as CallDirection;
  if (!DIRECTIONS.includes(direction)) throw new Error('direction is not a call direction');
  const outcome = field.string(o, 'outcome') as CallOutcome;
  if (!OUTCOMES.includes(outcome)) throw new Error('outcome is not a call outcome');
  const member = field.optionalString(o, 'member');
  const answeredAt = optionalTime(o, 'answeredAt');
  const endedAt = optionalTime(o, 'endedAt');
  const duration = o.durationSeconds === undefined || o.durationSeconds === null ? undefined : field.number(o, 'durationSeconds');
  const refusedBecause = field.optionalString(o, 'refusedBecause');
  return {
    callSid,
    line: field.string(o, 'line'),
    direction,
    remote: field.string(o, 'remote'),
    ...(member ? { member } : {}),
    startedAt: time(o, 'startedAt'),
    ...(answeredAt ? { answeredAt } : {}),
    ...(endedAt ? { endedAt } : {}),
    ...(duration !== undefined ? { durationSeconds: Math.max(0, Math.round(duration)) } : {}),
    outcome,
    ...(refusedBecause ? { refusedBecause } : {}),
  };
}

/** Newest first (by start, then by SID so the order is total), each call once (the first copy wins). */
export function sortCalls(calls: readonly LoggedCall[]): LoggedCall[] {
  const seen = new Set<string>();
  const unique = calls.filter((c) => !seen.has(c.callSid) && seen.add(c.callSid));
  return unique.sort((a, b) => (a.startedAt !== b.startedAt ? (a.startedAt < b.startedAt ? 1 : -1) : a.callSid < b.callSid ? 1 : -1));
}

/** A missed call a person should see (lambda/core/call-log.ts `isMissed`): incoming, nobody answered, no voicemail. */
export function isMissedCall(call: Pick<LoggedCall, 'direction' | 'outcome'>): boolean {
  return call.direction === 'incoming' && call.outcome === 'missed';
}

/** Whether the device has not seen this missed call yet (it started after the device's mark). */
export function isUnseenMissed(call: LoggedCall, seenUntil: string | undefined): boolean {
  return isMissedCall(call) && (seenUntil === undefined || call.startedAt > seenUntil);
}

export function countUnseenMissed(calls: readonly LoggedCall[], seenUntil: string | undefined): number {
  return calls.filter((c) => isUnseenMissed(c, seenUntil)).length;
}

const laterOf = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined ? b : b === undefined ? a : a > b ? a : b);

export class CallLogClient {
  constructor(private readonly api: PageApi) {}

  /** One page of the line's calls, newest first (`cursor`: the previous page's, for older calls). */
  list(opts: { limit?: number; cursor?: string } = {}): Promise<CallLogPage> {
    const body = { action: 'list', limit: opts.limit ?? CALL_LOG_PAGE_SIZE, ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}) };
    return this.api.post(API_PATHS.calls, body, (o) => {
      const cursor = field.optionalString(o, 'cursor');
      const seenUntil = field.optionalString(o, 'seenUntil');
      return {
        line: field.string(o, 'line'),
        calls: sortCalls(field.array(o, 'calls').map(parseLoggedCall)),
        ...(cursor ? { cursor } : {}),
        ...(seenUntil ? { seenUntil } : {}),
        unseenMissed: Math.max(0, Math.round(field.number(o, 'unseenMissed'))),
      };
    });
  }

  /** Moves the device's "seen" mark forward to `until` (ISO-8601); resolves with the mark the API kept. */
  markSeen(until: string): Promise<string> {
    return this.api.post(API_PATHS.calls, { action: 'markSeen', until }, (o) => field.string(o, 'seenUntil'));
  }
}

// ---------------------------------------------------------------------------------------------------------
// This browser's copy of the list (kept by recent-calls.ts)

export interface CachedCallLog {
  /** the line's number (E.164) */
  line: string;
  /** newest first */
  calls: LoggedCall[];
  seenUntil?: string;
  unseenMissed: number;
  /** when the server answered this list (ms epoch) */
  savedAt: number;
}

export interface CallLogCache {
  /** The copy of that line's list, if this browser has one. */
  load(line: string): CachedCallLog | undefined;
  save(log: CachedCallLog): void;
  clear(): void;
}

// ---------------------------------------------------------------------------------------------------------
// The list the page shows

export type RecentCallsStatus = 'off' | 'loading' | 'ready' | 'error';

export interface RecentCallsSnapshot {
  status: RecentCallsStatus;
  line?: string;
  /** newest first: the first page and the older pages loaded, or this browser's copy */
  calls: LoggedCall[];
  /** The calls shown are this browser's copy (`loadedAt` says from when), not yet the server's answer. */
  fromCache: boolean;
  /** when the server answered the list shown (ms epoch) */
  loadedAt?: number;
  /** Older calls can be loaded (`loadMore`). */
  more: boolean;
  loadingMore: boolean;
  /** incoming missed calls the device has not seen */
  unseenMissed: number;
  /** the device's "seen" mark (ISO-8601) */
  seenUntil?: string;
  /** the last failure to load the list, for people (the calls shown may be out of date) */
  error?: string;
  errorKind?: PageApiErrorKind;
}

export interface RecentCallsDeps extends PollingEnv {
  client: Pick<CallLogClient, 'list' | 'markSeen'>;
  cache?: CallLogCache;
  /** How often the first page is asked for while the page is visible. */
  pollIntervalMs: number;
  /** After a call of this device ends, the list is asked for at once and again this soon (Twilio's callbacks trail the call). */
  afterCallMs?: number;
  pageSize?: number;
  /** At most this many calls are kept in the cache. */
  cacheLimit?: number;
  now?: () => number;
}

export const AFTER_CALL_MS = 3_000;
export const CACHE_LIMIT = 50;

const OFF: RecentCallsSnapshot = { status: 'off', calls: [], fromCache: false, more: false, loadingMore: false, unseenMissed: 0 };

export class RecentCalls extends PolledPanel<RecentCallsSnapshot> {
  /** the next poll comes sooner: a call of this device ended */
  private followUp = false;
  /** where the next older page starts */
  private cursor?: string;
  /** pages after the first were loaded: a refresh keeps them below the new first page */
  private olderPages = false;
  /** the mark this page set: a list that started before must not count those calls unseen again */
  private mark?: string;
  private readonly pageSize: number;
  private readonly now: () => number;

  constructor(private readonly deps: RecentCallsDeps) {
    super(OFF, () => undefined, deps);
    this.pageSize = deps.pageSize ?? CALL_LOG_PAGE_SIZE;
    this.now = deps.now ?? (() => Date.now());
  }

  /** The poll after a call of this device comes sooner (once); then every interval. */
  protected delayMs(): number {
    const followUp = this.followUp;
    this.followUp = false;
    return followUp ? Math.min(this.deps.afterCallMs ?? AFTER_CALL_MS, this.deps.pollIntervalMs) : this.deps.pollIntervalMs;
  }

  /**
   * Signed in (on `line`, when known): shows this browser's copy of the line's list at once, loads the server's,
   * then polls. Calling it again while running only loads now.
   */
  start(line?: string): void {
    if (!this.poller.start()) {
      void this.refresh();
      return;
    }
    this.newSession();
    const cached = line ? this.deps.cache?.load(line) : undefined;
    // Nothing of an earlier session stays (its line, its error).
    this.reset({
      ...OFF,
      status: 'loading',
      ...(cached
        ? {
            line: cached.line,
            calls: cached.calls,
            fromCache: true,
            loadedAt: cached.savedAt,
            unseenMissed: cached.unseenMissed,
            ...(cached.seenUntil ? { seenUntil: cached.seenUntil } : {}),
          }
        : {}),
    });
    void this.refresh();
  }

  /** Signed out: stop polling and forget the list (the cache is the caller's to clear). */
  stop(): void {
    this.poller.stop();
    this.newSession();
    this.reset(OFF);
  }

  /**
   * The session is over (the phone asks to sign in again, e.g. the device's secret was rotated): polls stop, an
   * answer under way no longer counts, the list stays with the reason it may be out of date. `start` resumes.
   */
  suspend(reason: string): void {
    if (!this.poller.polling) return;
    this.poller.stop();
    this.followUp = false;
    this.update({ status: 'error', error: reason, errorKind: 'unauthorized', loadingMore: false });
  }

  /** What an earlier session had loaded or marked no longer counts. */
  private newSession(): void {
    this.followUp = false;
    this.cursor = undefined;
    this.olderPages = false;
    this.mark = undefined;
  }

  /** A call of this device ended: the log has news now, and more once Twilio's last callbacks are in. */
  afterCall(): Promise<void> {
    if (!this.poller.polling) return Promise.resolve();
    this.followUp = true;
    return this.refresh();
  }

  protected async load(session: number): Promise<void> {
    let page: CallLogPage;
    try {
      page = await this.deps.client.list({ limit: this.pageSize });
    } catch (err) {
      if (session !== this.poller.session) return;
      const e = toPageError(err);
      // As the voicemail inbox: polling would only ask the token API again and again. Wait for the next sign-in.
      if (e.kind === 'unauthorized') this.poller.halt();
      // What is shown (the last list, or this browser's copy) stays, marked as possibly out of date.
      this.update({ status: 'error', error: e.message, errorKind: e.kind });
      return;
    }
    if (session !== this.poller.session) return;
    const calls = this.withOlderPages(page);
    // A list that started before this page's markSeen answered still counts those calls: count them again.
    const stale = this.mark !== undefined && (page.seenUntil === undefined || page.seenUntil < this.mark);
    const seenUntil = laterOf(page.seenUntil, this.mark);
    this.update({
      status: 'ready',
      line: page.line,
      calls,
      fromCache: false,
      loadedAt: this.now(),
      more: this.cursor !== undefined,
      unseenMissed: stale ? countUnseenMissed(page.calls, seenUntil) : page.unseenMissed,
      seenUntil,
      error: undefined,
      errorKind: undefined,
    });
    this.save();
  }

  /**
   * The new first page, with the older pages loaded before below it, as long as it reaches them (more than a page
   * of new calls leaves a gap: the list starts again from the new first page).
   */
  private withOlderPages(page: CallLogPage): LoggedCall[] {
    const first = page.calls;
    const oldest = first.at(-1);
    const shown = this.state.fromCache ? [] : this.state.calls;
    if (this.olderPages && page.cursor !== undefined && oldest && shown.length > 0 && oldest.startedAt <= shown[0].startedAt) {
      const inFirst = new Set(first.map((c) => c.callSid));
      return sortCalls([...first, ...shown.filter((c) => !inFirst.has(c.callSid) && c.startedAt <= oldest.startedAt)]);
    }
    this.olderPages = false;
    this.cursor = page.cursor;
    return first;
  }

  /**
   * "Show more": the next older page, below the calls shown. Resolves with how many calls it added (0: there were
   * no more). A cursor the API no longer takes starts the list again from the first page.
   */
  async loadMore(): Promise<number> {
    const cursor = this.cursor;
    if (!this.poller.polling || cursor === undefined || this.state.loadingMore || this.state.fromCache) return 0;
    const session = this.poller.session;
    this.update({ loadingMore: true });
    let page: CallLogPage;
    try {
      page = await this.deps.client.list({ limit: this.pageSize, cursor });
    } catch (err) {
      if (session !== this.poller.session) return 0;
      const e = toPageError(err);
      this.update({ loadingMore: false });
      if (e.kind === 'bad-request') {
        this.cursor = undefined;
        this.olderPages = false;
        this.update({ more: false });
        void this.refresh();
      }
      throw e;
    }
    if (session !== this.poller.session) return 0;
    if (this.cursor !== cursor) {
      // The list started again from the first page meanwhile: this page may not follow it.
      this.update({ loadingMore: false });
      return 0;
    }
    const known = new Set(this.state.calls.map((c) => c.callSid));
    const added = page.calls.filter((c) => !known.has(c.callSid));
    this.cursor = page.calls.length > 0 ? page.cursor : undefined;
    this.olderPages = true;
    this.update({ calls: sortCalls([...this.state.calls, ...added]), more: this.cursor !== undefined, loadingMore: false });
    return added.length;
  }

  /**
   * The user saw the list: the device's mark moves to the newest call shown (the badge clears at once; the API is
   * told). Nothing happens unless a missed call is unseen. If the API refuses, the server's count comes back.
   */
  async markSeen(): Promise<void> {
    const s = this.state;
    const until = s.calls[0]?.startedAt;
    if (!this.poller.polling || s.status !== 'ready' || s.unseenMissed === 0 || until === undefined) return;
    const session = this.poller.session;
    const before = this.mark;
    this.mark = laterOf(this.mark, until);
    const seenUntil = laterOf(s.seenUntil, this.mark);
    this.update({ seenUntil, unseenMissed: countUnseenMissed(s.calls, seenUntil) });
    try {
      const kept = await this.deps.client.markSeen(until);
      if (session !== this.poller.session) return;
      this.update({ seenUntil: laterOf(this.state.seenUntil, kept) });
      this.save();
    } catch (err) {
      if (session !== this.poller.session) return;
      this.mark = before;
      void this.refresh();
      throw toPageError(err);
    }
  }

  private save(): void {
    const s = this.state;
    if (!this.deps.cache || s.fromCache || s.line === undefined || s.loadedAt === undefined) return;
    this.deps.cache.save({
      line: s.line,
      calls: s.calls.slice(0, this.deps.cacheLimit ?? CACHE_LIMIT),
      unseenMissed: s.unseenMissed,
      savedAt: s.loadedAt,
      ...(s.seenUntil ? { seenUntil: s.seenUntil } : {}),
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// What an entry says

export interface CallEntry {
  /** `incoming`, `outgoing` or `internal`; `missed` for a missed incoming call */
  kind: 'incoming' | 'outgoing' | 'internal' | 'missed';
  /** the direction in words (the icon's label) */
  kindLabel: string;
  /** the other party: a formatted number, `Teammate Alice`, `Number withheld` or `Unknown number` */
  party: string;
  /** how it went, with who answered or placed it: `Answered by Alice`, `Missed`, `You called, no answer` */
  summary: string;
  /** what "Call back" calls; none when the party cannot be called */
  callBack?: { teammate: string } | { number: string };
}

const KIND_LABELS: Record<CallEntry['kind'], string> = {
  incoming: 'Incoming call',
  outgoing: 'Outgoing call',
  internal: 'Call between teammates',
  missed: 'Missed call',
};

/** Why the API refused to place a call (lambda/handlers/outgoing-call.ts, lambda/core/destination-policy.ts). */
const REFUSALS: Record<string, string> = {
  emergency: 'emergency numbers cannot be called from here',
  unparsable: 'not a phone number',
  invalid: 'not a valid number',
  'premium-rate': 'premium-rate number',
  'shared-cost': 'shared-cost number',
  'special-rate': 'special-rate number',
  'number-type': 'that kind of number cannot be called',
  'country-not-allowed': 'country not allowed',
  'caller-id': 'caller ID not allowed',
  'no-destination': 'no number given',
  'not-a-teammate': 'not a teammate',
  limit: 'too many calls at once',
};

const INCOMING_OUTCOMES: Record<CallOutcome, string> = {
  answered: 'Answered',
  missed: 'Missed',
  voicemail: 'Voicemail left',
  forwarded: 'Forwarded',
  refused: 'Refused',
  failed: 'Failed',
  'in-progress': 'In progress',
};

const PLACED_OUTCOMES: Record<CallOutcome, string> = {
  answered: 'answered',
  missed: 'no answer',
  voicemail: 'voicemail',
  forwarded: 'forwarded',
  refused: 'not placed',
  failed: 'failed',
  'in-progress': 'in progress',
};

/**
 * An entry of Recent calls as the signed-in device `me` sees it. The log is the line's, shared by its members: an
 * internal call's other party is whichever teammate is not `me` (calling back a teammate who called you calls
 * them, not yourself), and who answered or placed a call is named (`you` for `me`).
 */
export function describeCall(call: LoggedCall, me: string | undefined, home?: CountryCode): CallEntry {
  const name = (member: string) => (member === me ? 'you' : member);
  let party = call.remote;
  if (call.direction === 'internal' && call.member && teammateOf(call.remote) === me) party = `client:${call.member}`;
  const kind: CallEntry['kind'] = isMissedCall(call) ? 'missed' : call.direction;

  let summary: string;
  if (call.direction === 'incoming') {
    summary = INCOMING_OUTCOMES[call.outcome];
    if (call.member && call.outcome === 'answered') summary += ` by ${name(call.member)}`;
    if (call.member && call.outcome === 'in-progress') summary += `, answered by ${name(call.member)}`;
  } else {
    const who = call.member ? (call.member === me ? 'You called' : `${call.member} called`) : 'Called';
    summary = `${who}, ${PLACED_OUTCOMES[call.outcome]}`;
  }
  if (call.outcome === 'refused' && call.refusedBecause && REFUSALS[call.refusedBecause]) summary += `: ${REFUSALS[call.refusedBecause]}`;

  const target = party === '' ? undefined : callBackTarget(party);
  const callBack = target && 'teammate' in target && target.teammate === me ? undefined : target;
  return {
    kind,
    kindLabel: KIND_LABELS[kind],
    party: party === '' ? 'Unknown number' : describeParty(party, home),
    summary,
    ...(callBack ? { callBack } : {}),
  };
}
