import {
  CallLogClient,
  type CachedCallLog,
  type CallLogCache,
  type CallLogPage,
  describeCall,
  type LoggedCall,
  RecentCalls,
  type RecentCallsSnapshot,
} from '../../client/src/call-log';
import { PageApiError } from '../../client/src/page-api';
import { API_PATHS } from '../../lambda/core/paths';
import type { CallView } from '../../lambda/core/call-log';
import { API_BASE as BASE, flush, manualTimers, scriptedPageApi } from './page-api-fakes';

const LINE = '+815031234567';
const sid = (n: number) => `CA${n.toString(16).padStart(32, '0')}`;
/** Call n started n minutes after 09:00 (a higher n is newer). */
const at = (n: number) => new Date(Date.UTC(2025, 0, 1, 9, n)).toISOString();
const call = (n: number, over: Partial<LoggedCall> = {}): LoggedCall => ({
  callSid: sid(n),
  line: LINE,
  direction: 'incoming',
  remote: '+819059876543',
  startedAt: at(n),
  outcome: 'answered',
  member: 'Alice',
  durationSeconds: 30,
  ...over,
});
const missed = (n: number, over: Partial<LoggedCall> = {}) => call(n, { outcome: 'missed', member: undefined, durationSeconds: undefined, ...over });
/** What the API sends: a CallView, legs included. */
const view = (c: LoggedCall): CallView => ({ ...c, legs: [{ sid: c.callSid, role: 'caller', to: LINE, status: 'completed' }] });
const sids = (calls: readonly LoggedCall[]) => calls.map((c) => c.callSid);

describe('CallLogClient', () => {
  function client(answers: Array<{ status: number; body: unknown } | Error>) {
    const { api, sent } = scriptedPageApi(answers);
    return { calls: new CallLogClient(api), sent };
  }

  it('lists a page (20 unless told), the next with the cursor, and moves the seen mark, with the API’s actions on /softphone/calls', async () => {
    const { calls, sent } = client([
      {
        status: 200,
        body: { success: true, line: LINE, calls: [view(call(3)), view(missed(2))], cursor: 'next-1', seenUntil: at(1), unseenMissed: 1 },
      },
      { status: 200, body: { success: true, line: LINE, calls: [view(call(1))], unseenMissed: 0 } },
      { status: 200, body: { success: true, seenUntil: at(3) } },
    ]);
    await expect(calls.list()).resolves.toEqual({ line: LINE, calls: [call(3), missed(2)], cursor: 'next-1', seenUntil: at(1), unseenMissed: 1 });
    await expect(calls.list({ limit: 5, cursor: 'next-1' })).resolves.toEqual({ line: LINE, calls: [call(1)], unseenMissed: 0 });
    await expect(calls.markSeen(at(3))).resolves.toBe(at(3));
    const url = `${BASE}${API_PATHS.calls}`;
    expect(sent).toEqual([
      { url, body: { action: 'list', limit: 20 }, auth: 'Bearer jwt' },
      { url, body: { action: 'list', limit: 5, cursor: 'next-1' }, auth: 'Bearer jwt' },
      { url, body: { action: 'markSeen', until: at(3) }, auth: 'Bearer jwt' },
    ]);
  });

  it('keeps every field the page shows, drops the legs, and orders the calls newest first', async () => {
    const refused = call(4, { direction: 'outgoing', remote: '+819011112222', member: 'Bob', outcome: 'refused', refusedBecause: 'premium-rate' });
    const full = call(5, { answeredAt: at(5), endedAt: at(6), durationSeconds: 59.6 });
    const { calls } = client([{ status: 200, body: { success: true, line: LINE, calls: [view(refused), view(full)], unseenMissed: 0 } }]);
    const page = await calls.list();
    expect(page.calls).toEqual([{ ...full, durationSeconds: 60 }, refused]);
    expect(page.calls[0]).not.toHaveProperty('legs');
  });

  it('refuses an answer that is not a call log', async () => {
    for (const bad of [
      { ...view(call(1)), callSid: 'not-a-sid' },
      { ...view(call(1)), direction: 'sideways' },
      { ...view(call(1)), outcome: 'lost' },
      { ...view(call(1)), startedAt: 'yesterday' },
      { ...view(call(1)), durationSeconds: '30' },
      { ...view(call(1)), remote: 42 },
    ]) {
      const { calls } = client([{ status: 200, body: { success: true, line: LINE, calls: [bad], unseenMissed: 0 } }]);
      await expect(calls.list()).rejects.toMatchObject({ kind: 'server' });
    }
    const { calls } = client([{ status: 200, body: { success: true, line: LINE, calls: [] } }]); // no unseenMissed
    await expect(calls.list()).rejects.toMatchObject({ kind: 'server' });
  });

  it('maps the API’s errors (its own sentence for people), and a failed network', async () => {
    const { calls } = client([
      { status: 400, body: { success: false, error: 'cursor must be the cursor of the previous page.' } },
      { status: 403, body: { success: false, error: 'Forbidden' } },
      { status: 503, body: { success: false, error: 'The phone service is temporarily unavailable.' } },
      new TypeError('Failed to fetch'),
      { status: 400, body: { success: false, error: 'until must be an ISO-8601 UTC time like 2026-01-31T09:00:00.000Z.' } },
    ]);
    await expect(calls.list({ cursor: 'forged' })).rejects.toMatchObject({
      kind: 'bad-request',
      message: 'cursor must be the cursor of the previous page.',
    });
    await expect(calls.list()).rejects.toMatchObject({ kind: 'forbidden', status: 403 });
    await expect(calls.list()).rejects.toMatchObject({ kind: 'unavailable', status: 503 });
    await expect(calls.list()).rejects.toMatchObject({ kind: 'network' });
    await expect(calls.markSeen('soon')).rejects.toMatchObject({ kind: 'bad-request', message: /^until must be/ });
  });
});

/** The client's answers, one per request, in the order asked (so races are scripted exactly). */
class ScriptedLog {
  requests: string[] = [];
  private pending: Array<{ request: string; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  list(opts: { limit?: number; cursor?: string } = {}): Promise<CallLogPage> {
    return this.ask(opts.cursor ? `list ${opts.cursor}` : 'list') as Promise<CallLogPage>;
  }
  markSeen(until: string): Promise<string> {
    return this.ask(`markSeen ${until}`) as Promise<string>;
  }
  private ask(request: string): Promise<unknown> {
    this.requests.push(request);
    return new Promise((resolve, reject) => this.pending.push({ request, resolve, reject }));
  }
  /** Answers the oldest open request (or the oldest open `request`) with a page, counting its missed calls after `seenUntil`. */
  page(calls: LoggedCall[], more: { cursor?: string; seenUntil?: string } = {}, request?: string): void {
    const seenUntil = more.seenUntil;
    const unseenMissed = calls.filter((c) => c.outcome === 'missed' && (!seenUntil || c.startedAt > seenUntil)).length;
    this.next(request).resolve({
      line: LINE,
      calls,
      unseenMissed,
      ...(more.cursor ? { cursor: more.cursor } : {}),
      ...(seenUntil ? { seenUntil } : {}),
    });
  }
  answer(value: unknown): void {
    this.next().resolve(value);
  }
  fail(err: Error): void {
    this.next().reject(err);
  }
  get open(): number {
    return this.pending.length;
  }
  private next(request?: string) {
    const i = request === undefined ? 0 : this.pending.findIndex((p) => p.request === request);
    const [p] = i < 0 ? [] : this.pending.splice(i, 1);
    if (!p) throw new Error(`no request ${request ?? ''} is waiting for an answer`);
    return p;
  }
}

class MemoryCache implements CallLogCache {
  saved?: CachedCallLog;
  load(line: string) {
    return this.saved?.line === line ? this.saved : undefined;
  }
  save(log: CachedCallLog) {
    this.saved = log;
  }
  clear() {
    this.saved = undefined;
  }
}

function setup(opts: { visible?: boolean; cached?: CachedCallLog; pageSize?: number } = {}) {
  const client = new ScriptedLog();
  const cache = new MemoryCache();
  if (opts.cached) cache.save(opts.cached);
  const { timers, setTimer, clearTimer, fire } = manualTimers();
  let clock = 1_000;
  const recent = new RecentCalls({
    client,
    cache,
    pollIntervalMs: 30_000,
    afterCallMs: 3_000,
    pageSize: opts.pageSize ?? 3,
    cacheLimit: 4,
    isVisible: () => opts.visible ?? true,
    now: () => clock,
    setTimer,
    clearTimer,
  });
  const seen: RecentCallsSnapshot[] = [];
  recent.subscribe((s) => seen.push(s));
  return { client, cache, recent, timers, fire, seen, tick: (ms: number) => (clock += ms) };
}

describe('RecentCalls: the server’s list, polled', () => {
  it('loads the first page on start, then every interval while visible; each answer replaces the list and is cached', async () => {
    const { client, cache, recent, timers, fire, tick } = setup();
    expect(recent.state).toMatchObject({ status: 'off', calls: [], unseenMissed: 0 });
    recent.start(LINE);
    expect(recent.state.status).toBe('loading');
    expect(client.requests).toEqual(['list']);
    expect(timers).toHaveLength(0); // no poll while a load is under way
    client.page([missed(2), call(1)], { seenUntil: at(0) });
    await flush();
    expect(recent.state).toMatchObject({
      status: 'ready',
      line: LINE,
      calls: [missed(2), call(1)],
      fromCache: false,
      unseenMissed: 1,
      seenUntil: at(0),
      loadedAt: 1_000,
      more: false,
    });
    expect(timers.map((t) => t.ms)).toEqual([30_000]);
    expect(cache.saved).toEqual({ line: LINE, calls: [missed(2), call(1)], unseenMissed: 1, seenUntil: at(0), savedAt: 1_000 });

    tick(30_000);
    await fire();
    expect(client.requests).toEqual(['list', 'list']);
    client.page([call(3), missed(2), call(1)], { seenUntil: at(0) });
    await flush();
    expect(sids(recent.state.calls)).toEqual([sid(3), sid(2), sid(1)]);
    expect(recent.state.loadedAt).toBe(31_000);
    expect(cache.saved?.savedAt).toBe(31_000);
  });

  it('after a call of this device, asks at once and again a few seconds later (Twilio’s callbacks trail the call), then polls as usual', async () => {
    const { client, recent, timers, fire } = setup();
    recent.start(LINE);
    client.page([]);
    await flush();
    expect(timers.map((t) => t.ms)).toEqual([30_000]);
    void recent.afterCall();
    expect(client.requests).toEqual(['list', 'list']);
    expect(timers).toHaveLength(0);
    client.page([]); // the call is not logged yet
    await flush();
    expect(timers.map((t) => t.ms)).toEqual([3_000]);
    await fire();
    client.page([call(1)]);
    await flush();
    expect(recent.state.calls).toEqual([call(1)]);
    expect(timers.map((t) => t.ms)).toEqual([30_000]);
  });

  it('pauses while the page is hidden and loads at once when it is shown again; a refresh during a load is followed by one more', async () => {
    const { client, recent, timers } = setup({ visible: false });
    recent.start(LINE);
    void recent.refresh();
    void recent.refresh();
    expect(client.requests).toEqual(['list']);
    client.page([]);
    await flush();
    expect(client.requests).toEqual(['list', 'list']);
    client.page([call(1)]);
    await flush();
    expect(timers).toHaveLength(0); // hidden: no poll
    recent.setVisible(true);
    expect(client.requests).toEqual(['list', 'list', 'list']);
    client.page([call(1)]);
    await flush();
    expect(timers).toHaveLength(1);
    recent.setVisible(false);
    expect(timers).toHaveLength(0);
  });

  it('stops polling when the session is refused, until started again; stop() forgets the list and drops a late answer', async () => {
    const { client, recent, timers } = setup();
    recent.start(LINE);
    client.fail(new PageApiError('unauthorized', 'Sign in again: wrong device secret.', 401));
    await flush();
    expect(recent.state).toMatchObject({ status: 'error', errorKind: 'unauthorized', error: 'Sign in again: wrong device secret.' });
    expect(recent.polling).toBe(false);
    expect(timers).toHaveLength(0);
    recent.start(LINE);
    expect(client.requests).toEqual(['list', 'list']);
    recent.stop();
    expect(recent.state).toEqual({ status: 'off', calls: [], fromCache: false, more: false, loadingMore: false, unseenMissed: 0 });
    client.page([missed(1)]);
    await flush();
    expect(recent.state.status).toBe('off');
    expect(timers).toHaveLength(0);
  });
});

describe('RecentCalls: the session ends', () => {
  it('suspend() stops polling, drops an answer under way and keeps the list with the reason; start() resumes', async () => {
    const { client, recent, timers, fire } = setup();
    recent.start(LINE);
    client.page([call(1)]);
    await flush();
    await fire();
    expect(client.open).toBe(1); // a poll under way
    recent.suspend('The device secret is wrong. Sign in again.');
    expect(recent.state).toMatchObject({
      status: 'error',
      errorKind: 'unauthorized',
      error: 'The device secret is wrong. Sign in again.',
      calls: [call(1)],
    });
    expect(recent.polling).toBe(false);
    client.page([call(2), call(1)]);
    await flush();
    expect(recent.state.calls).toEqual([call(1)]);
    expect(timers).toHaveLength(0);
    await recent.refresh();
    recent.setVisible(false);
    recent.setVisible(true);
    expect(client.requests).toEqual(['list', 'list']);
    recent.start(LINE); // signed in again: a fresh start from this browser's copy, without the old error
    expect(client.requests).toEqual(['list', 'list', 'list']);
    expect(recent.state).toEqual({
      status: 'loading',
      line: LINE,
      calls: [call(1)],
      fromCache: true,
      loadedAt: 1_000,
      more: false,
      loadingMore: false,
      unseenMissed: 0,
    });
  });
});

describe('RecentCalls: this browser’s copy', () => {
  const cached: CachedCallLog = { line: LINE, calls: [missed(2), call(1)], unseenMissed: 1, seenUntil: at(0), savedAt: 500 };

  it('shows the copy of the line at once, marked as such, until the server answers', async () => {
    const { client, recent } = setup({ cached });
    recent.start(LINE);
    expect(recent.state).toMatchObject({
      status: 'loading',
      calls: [missed(2), call(1)],
      fromCache: true,
      loadedAt: 500,
      unseenMissed: 1,
      more: false,
    });
    client.page([call(3), missed(2)], { seenUntil: at(2) });
    await flush();
    expect(recent.state).toMatchObject({ status: 'ready', calls: [call(3), missed(2)], fromCache: false, unseenMissed: 0 });
  });

  it('keeps showing the copy when the server cannot be asked, with the error (offline, unavailable)', async () => {
    const { client, cache, recent, timers, fire } = setup({ cached });
    recent.start(LINE);
    client.fail(new PageApiError('network', 'Cannot reach the phone service. Check your network connection.'));
    await flush();
    expect(recent.state).toMatchObject({
      status: 'error',
      errorKind: 'network',
      calls: [missed(2), call(1)],
      fromCache: true,
      loadedAt: 500,
      unseenMissed: 1,
    });
    expect(cache.saved).toEqual(cached); // not overwritten by nothing
    expect(recent.polling).toBe(true);
    await fire();
    client.page([call(3)]);
    await flush();
    expect(recent.state).toMatchObject({ status: 'ready', calls: [call(3)], fromCache: false });
    expect(recent.state.error).toBeUndefined();
    expect(timers).toHaveLength(1);
  });

  it('keeps the last list the server gave when a later poll fails', async () => {
    const { client, recent, fire } = setup();
    recent.start(LINE);
    client.page([call(1)]);
    await flush();
    await fire();
    client.fail(new PageApiError('unavailable', 'The phone service is temporarily unavailable. Try again in a moment.', 503));
    await flush();
    expect(recent.state).toMatchObject({ status: 'error', errorKind: 'unavailable', calls: [call(1)], fromCache: false, loadedAt: 1_000 });
  });

  it('shows no copy of another line, and caches at most its limit', async () => {
    const { client, cache, recent } = setup({ cached: { ...cached, line: '+815031234568' } });
    recent.start(LINE);
    expect(recent.state.calls).toEqual([]);
    client.page([call(5), call(4), call(3), call(2), call(1)]);
    await flush();
    expect(sids(cache.saved!.calls)).toEqual([sid(5), sid(4), sid(3), sid(2)]);
  });
});

describe('RecentCalls: Show more', () => {
  async function loaded() {
    const t = setup();
    t.recent.start(LINE);
    t.client.page([call(9), call(8), call(7)], { cursor: 'after-7' });
    await flush();
    return t;
  }

  it('loads the next older page below, until there is none', async () => {
    const { client, recent } = await loaded();
    expect(recent.state.more).toBe(true);
    const more = recent.loadMore();
    expect(recent.state.loadingMore).toBe(true);
    void recent.loadMore(); // a second press while loading asks nothing more
    expect(client.requests).toEqual(['list', 'list after-7']);
    client.page([call(6), call(5), call(4)], { cursor: 'after-4' });
    await expect(more).resolves.toBe(3);
    expect(sids(recent.state.calls)).toEqual([9, 8, 7, 6, 5, 4].map(sid));
    expect(recent.state).toMatchObject({ more: true, loadingMore: false });
    // DynamoDB names a cursor whenever a page is full: the next page may be empty.
    const last = recent.loadMore();
    client.page([]);
    await expect(last).resolves.toBe(0);
    expect(recent.state.more).toBe(false);
    await expect(recent.loadMore()).resolves.toBe(0);
    expect(client.requests).toEqual(['list', 'list after-7', 'list after-4']);
  });

  it('a poll keeps the older pages below the new first page, as long as it reaches them', async () => {
    const { client, recent, fire } = await loaded();
    const more = recent.loadMore();
    client.page([call(6), call(5), call(4)], { cursor: 'after-4' });
    await more;
    await fire();
    client.page([call(10), call(9), call(8)], { cursor: 'after-8' }); // one new call
    await flush();
    expect(sids(recent.state.calls)).toEqual([10, 9, 8, 7, 6, 5, 4].map(sid));
    // Show more goes on after the older pages, not after the new first page.
    void recent.loadMore();
    expect(client.requests.at(-1)).toBe('list after-4');
  });

  it('starts again from the new first page when more than a page of calls came in (no gap in the list)', async () => {
    const { client, recent, fire } = await loaded();
    const more = recent.loadMore();
    client.page([call(6), call(5), call(4)], { cursor: 'after-4' });
    await more;
    await fire();
    client.page([call(14), call(13), call(12)], { cursor: 'after-12' });
    await flush();
    expect(sids(recent.state.calls)).toEqual([14, 13, 12].map(sid));
    void recent.loadMore();
    expect(client.requests.at(-1)).toBe('list after-12');
  });

  it('a cursor the API no longer takes starts the list again; another failure is said and changes nothing', async () => {
    const { client, recent } = await loaded();
    const more = recent.loadMore();
    client.fail(new PageApiError('network', 'Cannot reach the phone service.'));
    await expect(more).rejects.toMatchObject({ kind: 'network' });
    expect(recent.state).toMatchObject({ more: true, loadingMore: false, status: 'ready' });
    const stale = recent.loadMore();
    client.fail(new PageApiError('bad-request', 'cursor must be the cursor of the previous page.', 400));
    await expect(stale).rejects.toMatchObject({ kind: 'bad-request' });
    expect(recent.state.more).toBe(false);
    expect(client.requests).toEqual(['list', 'list after-7', 'list after-7', 'list']);
  });

  it('drops an older page that answers after the list started again', async () => {
    const { client, recent, fire } = await loaded();
    const more = recent.loadMore();
    await fire(); // the poll
    expect(client.requests).toEqual(['list', 'list after-7', 'list']);
    // The poll answers first, with more than a page of new calls: the list starts again from it …
    client.page([call(20), call(19), call(18)], { cursor: 'after-18' }, 'list');
    await flush();
    expect(sids(recent.state.calls)).toEqual([20, 19, 18].map(sid));
    // … so the older page asked for before does not follow it.
    client.page([call(6), call(5), call(4)], { cursor: 'after-4' }, 'list after-7');
    await expect(more).resolves.toBe(0);
    expect(sids(recent.state.calls)).toEqual([20, 19, 18].map(sid));
    expect(recent.state.loadingMore).toBe(false);
    void recent.loadMore();
    expect(client.requests.at(-1)).toBe('list after-18');
  });
});

describe('RecentCalls: seen', () => {
  async function loaded(calls: LoggedCall[], seenUntil?: string) {
    const t = setup({ pageSize: 20 });
    t.recent.start(LINE);
    t.client.page(calls, { seenUntil });
    await flush();
    return t;
  }

  it('marks the list seen up to its newest call: the badge clears at once, the API is told, the cache too', async () => {
    const { client, cache, recent } = await loaded([call(4), missed(3), missed(2), call(1)], at(2));
    expect(recent.state.unseenMissed).toBe(1);
    const marking = recent.markSeen();
    expect(recent.state).toMatchObject({ unseenMissed: 0, seenUntil: at(4) });
    expect(client.requests).toEqual(['list', `markSeen ${at(4)}`]);
    client.answer(at(4));
    await marking;
    expect(cache.saved).toMatchObject({ unseenMissed: 0, seenUntil: at(4) });
    await recent.markSeen(); // nothing unseen: nothing sent
    expect(client.requests).toHaveLength(2);
  });

  it('a list that started before the mark was set does not bring the badge back', async () => {
    const { client, recent } = await loaded([missed(2), call(1)]);
    void recent.refresh();
    const marking = recent.markSeen();
    client.page([missed(2), call(1)]); // the list, as the server had it before the mark
    await flush();
    expect(recent.state.unseenMissed).toBe(0);
    client.answer(at(2));
    await marking;
    expect(recent.state).toMatchObject({ unseenMissed: 0, seenUntil: at(2) });
    // a missed call after the mark counts
    void recent.refresh();
    client.page([missed(3), missed(2), call(1)], { seenUntil: at(2) });
    await flush();
    expect(recent.state.unseenMissed).toBe(1);
  });

  it('gives the badge back when the API refuses the mark, and asks the server again', async () => {
    const { client, recent } = await loaded([missed(2), call(1)]);
    const marking = recent.markSeen();
    expect(recent.state.unseenMissed).toBe(0);
    client.fail(new PageApiError('unavailable', 'The phone service is temporarily unavailable.', 503));
    await expect(marking).rejects.toMatchObject({ kind: 'unavailable' });
    expect(client.requests.at(-1)).toBe('list');
    client.page([missed(2), call(1)]);
    await flush();
    expect(recent.state.unseenMissed).toBe(1);
  });

  it('marks nothing while the list is this browser’s copy, or not loaded', async () => {
    const { client, recent } = setup({ cached: { line: LINE, calls: [missed(1)], unseenMissed: 1, savedAt: 1 } });
    await recent.markSeen();
    recent.start(LINE);
    await recent.markSeen();
    expect(client.requests).toEqual(['list']);
  });
});

describe('describeCall: an entry in words, as the signed-in device sees it', () => {
  const JP = 'JP';
  it('names the other party (formatted; teammates by name; withheld) and how the call went', () => {
    expect(describeCall(call(1, { member: 'Alice', durationSeconds: 65 }), 'Bob', JP)).toEqual({
      kind: 'incoming',
      kindLabel: 'Incoming call',
      party: '090-5987-6543',
      summary: 'Answered by Alice',
      callBack: { number: '+819059876543' },
    });
    expect(describeCall(call(1, { member: 'Bob' }), 'Bob', JP).summary).toBe('Answered by you');
    expect(describeCall(missed(1), 'Bob', JP)).toMatchObject({ kind: 'missed', kindLabel: 'Missed call', summary: 'Missed' });
    expect(describeCall(missed(1, { remote: 'anonymous' }), 'Bob', JP)).toMatchObject({ party: 'Number withheld', summary: 'Missed' });
    expect(describeCall(missed(1, { remote: 'anonymous' }), 'Bob', JP).callBack).toBeUndefined();
    expect(describeCall(call(1, { outcome: 'voicemail', member: undefined }), 'Bob', JP).summary).toBe('Voicemail left');
    expect(describeCall(call(1, { outcome: 'forwarded', member: undefined }), 'Bob', JP).summary).toBe('Forwarded');
    expect(describeCall(call(1, { outcome: 'in-progress' }), 'Bob', JP).summary).toBe('In progress, answered by Alice');
    expect(describeCall(call(1, { remote: '+12125550123' }), 'Bob', JP).party).toBe('+1 212 555 0123');
  });

  it('says who placed an outgoing call, and why the API refused one', () => {
    const out = (over: Partial<LoggedCall>) => call(1, { direction: 'outgoing', remote: '+819011112222', ...over });
    expect(describeCall(out({ member: 'Bob' }), 'Bob', JP)).toMatchObject({
      kind: 'outgoing',
      kindLabel: 'Outgoing call',
      party: '090-1111-2222',
      summary: 'You called, answered',
    });
    expect(describeCall(out({ member: 'Alice', outcome: 'missed' }), 'Bob', JP)).toMatchObject({
      kind: 'outgoing',
      summary: 'Alice called, no answer',
    });
    expect(describeCall(out({ member: 'Bob', outcome: 'refused', refusedBecause: 'premium-rate' }), 'Bob', JP).summary).toBe(
      'You called, not placed: premium-rate number',
    );
    expect(describeCall(out({ member: 'Bob', outcome: 'refused', refusedBecause: 'something-new' }), 'Bob', JP).summary).toBe(
      'You called, not placed',
    );
    expect(describeCall(out({ member: 'Bob', outcome: 'failed' }), 'Bob', JP).summary).toBe('You called, failed');
    expect(describeCall(out({ member: 'Bob', remote: '', outcome: 'refused', refusedBecause: 'caller-id' }), 'Bob', JP)).toMatchObject({
      party: 'Unknown number',
      summary: 'You called, not placed: caller ID not allowed',
    });
    expect(describeCall(out({ remote: '' }), 'Bob', JP).callBack).toBeUndefined();
  });

  it('calls back the teammate who is not you: an internal call is between two members of the line', () => {
    const internal = (over: Partial<LoggedCall>) => call(1, { direction: 'internal', ...over });
    // Alice called Bob: Bob sees Alice, and calls Alice back.
    expect(describeCall(internal({ remote: 'client:Bob', member: 'Alice' }), 'Bob', JP)).toEqual({
      kind: 'internal',
      kindLabel: 'Call between teammates',
      party: 'Teammate Alice',
      summary: 'Alice called, answered',
      callBack: { teammate: 'Alice' },
    });
    // Alice sees Bob, whom she called.
    expect(describeCall(internal({ remote: 'client:Bob', member: 'Alice' }), 'Alice', JP)).toMatchObject({
      party: 'Teammate Bob',
      summary: 'You called, answered',
      callBack: { teammate: 'Bob' },
    });
    // Carol (a third member) sees who was called, and who called.
    expect(describeCall(internal({ remote: 'client:Bob', member: 'Alice' }), 'Carol', JP)).toMatchObject({
      party: 'Teammate Bob',
      summary: 'Alice called, answered',
      callBack: { teammate: 'Bob' },
    });
    // Never a call to yourself.
    expect(describeCall(internal({ remote: 'client:Bob', member: undefined }), 'Bob', JP).callBack).toBeUndefined();
    // A teammate's call that came in (client:… as the caller) calls the teammate back.
    expect(describeCall(call(1, { remote: 'client:Alice', member: 'Bob' }), 'Bob', JP).callBack).toEqual({ teammate: 'Alice' });
  });
});
