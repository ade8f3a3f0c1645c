/**
 * The call log for operators (issue 15): `npm run calls -- list --number N [--since …] [--json]` spawned with tsx
 * against a local registry at SOFTPHONE_REGISTRY whose calls were written through the handlers' own adapter
 * (`DynamoCallLog.apply`) from Twilio-shaped status callbacks (`statusEventFromCallback`) and our own events —
 * through the registry a running owner holds (the test process, as `npm start` would), or embedding it when none
 * runs. And the pure parts: what `--since` means, reading every page, the table's cells.
 *
 * The CLI runs with TZ=Asia/Tokyo (no daylight saving time) so its local times are known here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type CallEvent, type CallFacts, type CallRecord, type CallView, callView, statusEventFromCallback } from '../../lambda/core/call-log';
import type { CallLog, CallPage } from '../../lambda/ports';
import { CALLS_PAGE_SIZE, callRows, formatDuration, listCalls, localTime, parseSince, SinceError } from '../../lib/devices/calls-admin';
import { type LocalRegistry, startEmbeddedRegistry } from '../../lib/local/registry-server';
import { type CommandResult, runCommand } from '../support/fixtures';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const LINE = '+815031234567';
const LINE_TYPED = '+81-50-3123-4567';
/** calls at fixed instants around a Tokyo midnight */
const DATED_LINE = '+815031234568';
/** more calls than one page */
const BUSY_LINE = '+815031234569';
const QUIET_LINE = '+815039990000';
const CALLER = '+819012345678';
const DEST = '+81312345678';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

jest.setTimeout(300_000);

let dir: string;
let registryPath: string;
let registry: LocalRegistry | undefined;
/** whole seconds (Twilio's Timestamp has no milliseconds) */
const NOW = Math.floor(Date.now() / SECOND) * SECOND;

/** The environment of a user's shell in Tokyo, without Twilio or AWS settings. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TWILIO_') && !k.startsWith('AWS_')) out[k] = v;
  return { ...out, SOFTPHONE_REGISTRY: registryPath, TZ: 'Asia/Tokyo', ...extra };
}

/** Runs `tsx bin/calls.ts …args` in a temp dir (no developer .env is read). */
const calls = (args: string[], extra: Record<string, string> = {}): Promise<CommandResult> =>
  runCommand(TSX, [path.join(REPO_ROOT, 'bin', 'calls.ts'), ...args], { cwd: dir, env: env(extra) });

/** Runs several commands a few at a time (the outcomes do not depend on each other). */
async function runAll<T>(items: T[], fn: (item: T) => Promise<CommandResult>): Promise<CommandResult[]> {
  const results: CommandResult[] = [];
  for (let i = 0; i < items.length; i += 4) results.push(...(await Promise.all(items.slice(i, i + 4).map(fn))));
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// Calls as Twilio reports them

let sids = 0;
const newSid = (): string => `CA${(++sids).toString(16).padStart(32, '0')}`;
/** Twilio's Timestamp (RFC 2822). */
const twilioTime = (ms: number): string => new Date(ms).toUTCString().replace('GMT', '+0000');

/** One status callback as an event (it must be one the log takes). */
function callback(params: Record<string, string>, at: number, query: Record<string, string> = {}, parentFacts: CallFacts = {}): CallEvent {
  const event = statusEventFromCallback({ ...params, Timestamp: twilioTime(at) }, query, at + 150, parentFacts);
  if (!event) throw new Error(`not an event: ${JSON.stringify(params)}`);
  return event;
}

/** A call to the line ringing `members`; `answeredBy` talks `seconds`; `voicemail`: the caller left one. */
function incoming(
  line: string,
  at: number,
  opts: { caller?: string; members?: string[]; answeredBy?: string; seconds?: number; voicemail?: boolean } = {},
): { sid: string; events: CallEvent[] } {
  const sid = newSid();
  const caller = opts.caller ?? CALLER;
  const facts: CallFacts = { line, direction: 'incoming', remote: caller };
  const parent = (status: string, t: number, extra: Record<string, string> = {}) =>
    callback({ CallSid: sid, CallStatus: status, From: caller, To: line, ...extra }, t, {}, facts);
  const events = [parent('ringing', at)];
  let end = at + 25 * SECOND;
  for (const member of opts.members ?? []) {
    const legSid = newSid();
    const leg = (status: string, t: number, extra: Record<string, string> = {}) =>
      callback({ CallSid: legSid, ParentCallSid: sid, CallStatus: status, From: caller, To: `client:${member}`, ...extra }, t, {
        leg: 'member',
        line,
        caller,
      });
    events.push(leg('ringing', at + SECOND));
    if (member === opts.answeredBy) {
      const seconds = opts.seconds ?? 0;
      end = at + 5 * SECOND + seconds * SECOND;
      events.push(leg('in-progress', at + 5 * SECOND), leg('completed', end, { CallDuration: String(seconds) }));
    } else {
      events.push(leg(opts.answeredBy ? 'canceled' : 'no-answer', at + (opts.answeredBy ? 5 : 21) * SECOND));
    }
  }
  if (opts.voicemail) {
    end = at + 60 * SECOND;
    events.push({ kind: 'voicemail', callSid: sid, at: end - 5 * SECOND, line });
  }
  events.push(parent('completed', end + SECOND, { CallDuration: String(Math.round((end + SECOND - at) / SECOND)) }));
  return { sid, events };
}

/** A call `member` places from the line to `to` (a number or `client:<teammate>`), answered for `seconds`. */
function outgoing(line: string, at: number, member: string, to: string, seconds: number): { sid: string; events: CallEvent[] } {
  const sid = newSid();
  const legSid = newSid();
  const facts: CallFacts = { line, direction: to.startsWith('client:') ? 'internal' : 'outgoing', remote: to, placedBy: member };
  const parent = (status: string, t: number) => callback({ CallSid: sid, CallStatus: status, From: `client:${member}`, To: to }, t, {}, facts);
  const leg = (status: string, t: number, extra: Record<string, string> = {}) =>
    callback({ CallSid: legSid, ParentCallSid: sid, CallStatus: status, From: line, To: to, ...extra }, t, { leg: 'callee', line, client: member });
  const end = at + 5 * SECOND + seconds * SECOND;
  return {
    sid,
    events: [
      parent('ringing', at),
      leg('ringing', at + SECOND),
      leg('in-progress', at + 5 * SECOND),
      leg('completed', end, { CallDuration: String(seconds) }),
      parent('completed', end + SECOND),
    ],
  };
}

/** A call the outgoing handler refused. */
function refused(line: string, at: number, member: string, to: string, reason: string): { sid: string; events: CallEvent[] } {
  const sid = newSid();
  return { sid, events: [{ kind: 'refused', callSid: sid, at, line, direction: 'outgoing', placedBy: member, remote: to, reason }] };
}

/** Writes the calls through the adapter, a few calls at a time (each call's events in a shuffled order). */
async function record(log: CallLog, list: { events: CallEvent[] }[]): Promise<void> {
  for (let i = 0; i < list.length; i += 8) {
    await Promise.all(
      list.slice(i, i + 8).map(async ({ events }) => {
        for (const event of [...events].reverse()) await log.apply(event);
      }),
    );
  }
}

// The line's calls, newest first.
const REFUSED = refused(LINE, NOW - 10 * MINUTE, 'alice', '+819099999999', 'limit');
const ANSWERED = incoming(LINE, NOW - 2 * HOUR, { members: ['alice', 'bob'], answeredBy: 'alice', seconds: 65 });
const OUTGOING = outgoing(LINE, NOW - 3 * DAY, 'bob', DEST, 30);
const INTERNAL = outgoing(LINE, NOW - 5 * DAY, 'bob', 'client:carol', 12);
const MISSED = incoming(LINE, NOW - 10 * DAY, { caller: '+819011112222', members: ['alice', 'bob'] });
const VOICEMAIL = incoming(LINE, NOW - 20 * DAY, { caller: '+819033334444', members: ['alice'], voicemail: true });
const LINE_CALLS = [REFUSED, ANSWERED, OUTGOING, INTERNAL, MISSED, VOICEMAIL];

// 2026-11-29 23:59:59 and 2026-11-30 00:00:00 in Tokyo
const BEFORE_MIDNIGHT = incoming(DATED_LINE, Date.parse('2026-11-29T14:59:59Z'), { members: ['dave'] });
const AT_MIDNIGHT = incoming(DATED_LINE, Date.parse('2026-11-29T15:00:00Z'), { members: ['dave'], answeredBy: 'dave', seconds: 3725 });

const BUSY_CALLS = Array.from({ length: CALLS_PAGE_SIZE + 12 }, (_, i) =>
  incoming(BUSY_LINE, NOW - (i + 1) * MINUTE, { caller: `+8190${String(10_000_000 + i)}` }),
);

/** What the page shows of each call, as the adapter stored it. */
async function viewsOf(list: { sid: string }[]): Promise<CallView[]> {
  return Promise.all(
    list.map(async ({ sid }) => {
      const stored = await registry!.calls.get(sid);
      if (!stored) throw new Error(`${sid} was not recorded`);
      return callView(stored);
    }),
  );
}

/** A time in Tokyo as the table shows it. */
const tokyo = (ms: number): string => `${new Date(ms + 9 * HOUR).toISOString().slice(0, 19).replace('T', ' ')} +09:00`;
const startOf = (call: { events: CallEvent[] }): number => Math.min(...call.events.map((e) => e.at));

/** The table's rows as cells. */
const rowsOf = (stdout: string): string[][] =>
  stdout
    .trimEnd()
    .split('\n')
    .map((r) => r.split(/\s{2,}/));

const sidsOf = (stdout: string): string[] => (JSON.parse(stdout) as CallView[]).map((c) => c.callSid);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-calls-cli-'));
  registryPath = path.join(dir, 'registry');
  // the registry's owner runs (as `npm start` would): the commands go through it
  registry = await startEmbeddedRegistry(registryPath, { owner: 'calls CLI test' });
  await record(registry.calls, [...LINE_CALLS, BEFORE_MIDNIGHT, AT_MIDNIGHT, ...BUSY_CALLS]);
});
afterAll(async () => {
  await registry?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('npm run calls -- list', () => {
  test('a table of the line’s calls, newest first, in local time; the number in any common format', async () => {
    const listed = await calls(['list', '--number', LINE_TYPED]);
    expect(listed.stderr).toBe(`Registry: ${registryPath} (through the running calls CLI test, pid ${process.pid})\n`);
    expect(listed.code).toBe(0);
    expect(rowsOf(listed.stdout)).toEqual([
      ['STARTED', 'DIRECTION', 'REMOTE', 'MEMBER', 'OUTCOME', 'DURATION'],
      [tokyo(startOf(REFUSED)), 'outgoing', '+819099999999', 'alice', 'refused (limit)', '-'],
      [tokyo(startOf(ANSWERED)), 'incoming', CALLER, 'alice', 'answered', '1:05'],
      [tokyo(startOf(OUTGOING)), 'outgoing', DEST, 'bob', 'answered', '0:30'],
      [tokyo(startOf(INTERNAL)), 'internal', 'client:carol', 'bob', 'answered', '0:12'],
      [tokyo(startOf(MISSED)), 'incoming', '+819011112222', '-', 'missed', '-'],
      [tokyo(startOf(VOICEMAIL)), 'incoming', '+819033334444', '-', 'voicemail', '-'],
    ]);
    const dated = await calls(['list', '--number', DATED_LINE]);
    expect(dated.code).toBe(0);
    expect(rowsOf(dated.stdout).slice(1)).toEqual([
      ['2026-11-30 00:00:00 +09:00', 'incoming', CALLER, 'dave', 'answered', '1:02:05'],
      ['2026-11-29 23:59:59 +09:00', 'incoming', CALLER, '-', 'missed', '-'],
    ]);
  });

  test('--json: one JSON document on stdout, the calls as the page shows them (callView), newest first', async () => {
    const listed = await calls(['list', '--number', LINE, '--json']);
    expect(listed.code).toBe(0);
    const parsed = JSON.parse(listed.stdout) as CallView[];
    expect(parsed).toEqual(await viewsOf(LINE_CALLS));
    expect(parsed.map((c) => [c.direction, c.outcome, c.member])).toEqual([
      ['outgoing', 'refused', 'alice'],
      ['incoming', 'answered', 'alice'],
      ['outgoing', 'answered', 'bob'],
      ['internal', 'answered', 'bob'],
      ['incoming', 'missed', undefined],
      ['incoming', 'voicemail', undefined],
    ]);
    expect(parsed[1]).toMatchObject({ line: LINE, remote: CALLER, durationSeconds: 65, startedAt: new Date(startOf(ANSWERED)).toISOString() });
    expect(listed.stderr).toContain('Registry: ');
  });

  test('--since a time back from now: 30m, 24h, 7d', async () => {
    const [minutes, hours, days] = await runAll(['30m', '24h', '7d'], (since) => calls(['list', '--number', LINE, '--since', since, '--json']));
    for (const r of [minutes, hours, days]) expect(r.code).toBe(0);
    expect(sidsOf(minutes.stdout)).toEqual([REFUSED.sid]);
    expect(sidsOf(hours.stdout)).toEqual([REFUSED.sid, ANSWERED.sid]);
    expect(sidsOf(days.stdout)).toEqual([REFUSED.sid, ANSWERED.sid, OUTGOING.sid, INTERNAL.sid]);
    const table = await calls(['list', '--number', LINE, '--since', '24h']);
    expect(rowsOf(table.stdout).map((r) => r[2])).toEqual(['REMOTE', '+819099999999', CALLER]);
  });

  test('--since a date or a date and time: local unless it names its zone; the instant itself included', async () => {
    const fourDaysAgo = new Date(NOW - 4 * DAY).toISOString();
    const cases: [string[], string[]][] = [
      [
        ['--since', fourDaysAgo],
        [REFUSED.sid, ANSWERED.sid, OUTGOING.sid],
      ],
      [
        ['--since', new Date(startOf(OUTGOING)).toISOString()],
        [REFUSED.sid, ANSWERED.sid, OUTGOING.sid],
      ],
      [
        ['--since', new Date(startOf(OUTGOING) + SECOND).toISOString()],
        [REFUSED.sid, ANSWERED.sid],
      ],
    ];
    const dated: [string[], Record<string, string>, string[]][] = [
      // a date: midnight in the operator's time zone
      [['--since', '2026-11-30'], {}, [AT_MIDNIGHT.sid]],
      [['--since', '2026-11-29'], {}, [AT_MIDNIGHT.sid, BEFORE_MIDNIGHT.sid]],
      [['--since', '2026-11-30'], { TZ: 'UTC' }, []],
      [['--since', '2026-11-29'], { TZ: 'America/New_York' }, [AT_MIDNIGHT.sid, BEFORE_MIDNIGHT.sid]],
      [['--since', '2026-11-30T00:00'], {}, [AT_MIDNIGHT.sid]],
      [['--since', '2026-11-29T23:59:59.001'], {}, [AT_MIDNIGHT.sid]],
      [['--since', '2026-11-29T15:00:00Z'], { TZ: 'UTC' }, [AT_MIDNIGHT.sid]],
      [['--since', '2026-11-30T00:00:00+09:00'], { TZ: 'UTC' }, [AT_MIDNIGHT.sid]],
      [['--since', '2026-11-29T09:59:59-0500'], { TZ: 'UTC' }, [AT_MIDNIGHT.sid, BEFORE_MIDNIGHT.sid]],
    ];
    const results = await runAll(
      [
        ...cases.map(([args]) => ({ args: ['--number', LINE, ...args], extra: {} })),
        ...dated.map(([args, extra]) => ({ args: ['--number', DATED_LINE, ...args], extra })),
      ],
      ({ args, extra }) => calls(['list', ...args, '--json'], extra),
    );
    const expected = [...cases.map(([args, sids]) => [args, sids]), ...dated.map(([args, extra, sids]) => [args, extra, sids])];
    results.forEach((result, i) => {
      const want = expected[i];
      const sids = want[want.length - 1];
      expect({ case: want, code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ case: want, code: 0, stderr: '' });
      expect({ case: want, sids: sidsOf(result.stdout) }).toEqual({ case: want, sids });
    });
  });

  test('every page: more calls than one page reads, all listed, newest first, each once', async () => {
    const [json, table] = await Promise.all([calls(['list', '--number', BUSY_LINE, '--json']), calls(['list', '--number', BUSY_LINE])]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as CallView[];
    expect(parsed).toHaveLength(CALLS_PAGE_SIZE + 12);
    expect(parsed).toEqual(await viewsOf(BUSY_CALLS));
    expect(new Set(parsed.map((c) => c.callSid)).size).toBe(parsed.length);
    expect(table.code).toBe(0);
    const rows = rowsOf(table.stdout);
    expect(rows).toHaveLength(CALLS_PAGE_SIZE + 13);
    expect(rows.slice(1).map((r) => r[0])).toEqual(BUSY_CALLS.map((c) => tokyo(startOf(c))));
    // and past the first page with --since too: the calls of the last CALLS_PAGE_SIZE + 5 minutes
    const since = await calls(['list', '--number', BUSY_LINE, '--since', new Date(NOW - (CALLS_PAGE_SIZE + 5) * MINUTE).toISOString(), '--json']);
    expect(since.code).toBe(0);
    expect(sidsOf(since.stdout)).toEqual(BUSY_CALLS.slice(0, CALLS_PAGE_SIZE + 5).map((c) => c.sid));
  });

  test('a number with no calls: a clear line, or [] with --json; nothing since the time given', async () => {
    const [table, json, since, sinceJson] = await Promise.all([
      calls(['list', '--number', QUIET_LINE]),
      calls(['list', '--number', QUIET_LINE, '--json']),
      calls(['list', '--number', LINE, '--since', '2999-01-01T00:00:00Z']),
      calls(['list', '--number', LINE, '--since', '2999-01-01', '--json']),
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toBe(`No calls on ${QUIET_LINE}.\n`);
    expect(json.code).toBe(0);
    expect(json.stdout).toBe('[]\n');
    expect(JSON.parse(json.stdout)).toEqual([]);
    expect(since.code).toBe(0);
    expect(since.stdout).toBe(`No calls on ${LINE} since 2999-01-01 09:00:00 +09:00.\n`);
    expect(sinceJson.code).toBe(0);
    expect(JSON.parse(sinceJson.stdout)).toEqual([]);
  });

  test('usage errors exit 2 with the message and the command’s help; nothing on stdout', async () => {
    const cases: [string[], RegExp][] = [
      [['list'], /^list: --number is required\./],
      [['list', '--since', '24h'], /^list: --number is required\./],
      [['list', '--number', ''], /^list: --number is required\./],
      [['list', '--number', LINE, '--since', 'yesterday'], /^list: --since "yesterday" is not a time: use a date \(2026-11-30/],
      [['list', '--number', LINE, '--since', '2026-02-29'], /--since "2026-02-29" is not a time/],
      [['list', '--number', LINE, '--since', '7w'], /--since "7w" is not a time/],
      [['list', '--number', LINE, '--since', '-24h'], /--since|argument/],
      [['list', '--number', LINE, '--since', ''], /--since "" is not a time/],
      [['list', '--number', LINE, '--since'], /--since/],
      [['list', '--number', '12ab', '--since', 'soon'], /--since "soon" is not a time/],
      [['list', '--number', LINE, '--client', 'alice'], /Unknown option '--client'/],
      [['list', '--number', LINE, 'extra'], /Unexpected argument 'extra'|positional/i],
      [['show', '--number', LINE], /^Unknown command "show"/],
    ];
    const results = await runAll(cases, ([args]) => calls(args));
    results.forEach((result, i) => {
      const [args, message] = cases[i];
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain('Usage: npm run calls --');
      expect(result.stdout).toBe('');
    });
  });

  test('help: --help exits 0, no command exits 2; a number that is not one exits 1; no registry there exits 4', async () => {
    const [help, listHelp, none, notANumber, missing] = await Promise.all([
      calls(['--help']),
      calls(['list', '--help']),
      calls([]),
      calls(['list', '--number', '12ab']),
      calls(['list', '--number', LINE], { SOFTPHONE_REGISTRY: path.join(dir, 'nowhere') }),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run calls -- <command>');
    expect(help.stdout).toContain('stack output CallsTableName');
    expect(listHelp.code).toBe(0);
    expect(listHelp.stdout).toContain('Usage: npm run calls -- list --number <phone> [--since <when>] [--json]');
    expect(listHelp.stdout).toMatch(/30m, 24h, 7d/);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('Usage: npm run calls -- <command>');
    expect(notANumber.code).toBe(1);
    expect(notANumber.stderr).toMatch(/^calls: "12ab" is not a phone number in international format/);
    expect(notANumber.stdout).toBe('');
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain(`calls: No local registry at ${path.join(dir, 'nowhere')}.`);
    expect(missing.stderr).toContain('--table <CallsTableName>');
  });

  test('with no owner running, the command embeds the registry itself', async () => {
    await registry!.close();
    registry = undefined;
    const listed = await calls(['list', '--number', LINE, '--since', '24h', '--json']);
    expect(listed.stderr).toBe(`Registry: ${registryPath}\n`);
    expect(listed.code).toBe(0);
    expect(sidsOf(listed.stdout)).toEqual([REFUSED.sid, ANSWERED.sid]);
    registry = await startEmbeddedRegistry(registryPath, { owner: 'calls CLI test' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The pure parts

describe('parseSince', () => {
  const now = new Date('2026-11-30T12:34:56.789Z');

  test('a time back from now: minutes, hours, days', () => {
    expect(parseSince('30m', now)).toBe('2026-11-30T12:04:56.789Z');
    expect(parseSince('24h', now)).toBe('2026-11-29T12:34:56.789Z');
    expect(parseSince('7d', now)).toBe('2026-11-23T12:34:56.789Z');
    expect(parseSince(' 1h ', now)).toBe('2026-11-30T11:34:56.789Z');
  });

  test('a date or a date and time without a zone: local time (the process’s time zone)', () => {
    expect(parseSince('2026-11-30', now)).toBe(new Date(2026, 10, 30).toISOString());
    expect(parseSince('2028-02-29', now)).toBe(new Date(2028, 1, 29).toISOString());
    expect(parseSince('2026-11-30T09:00', now)).toBe(new Date(2026, 10, 30, 9, 0).toISOString());
    expect(parseSince('2026-11-30 09:00:05', now)).toBe(new Date(2026, 10, 30, 9, 0, 5).toISOString());
    expect(parseSince('2026-11-30T09:00:05.25', now)).toBe(new Date(2026, 10, 30, 9, 0, 5, 250).toISOString());
  });

  test('with Z or an offset: that instant', () => {
    expect(parseSince('2026-11-30T09:00:00Z', now)).toBe('2026-11-30T09:00:00.000Z');
    expect(parseSince('2026-11-30T09:00Z', now)).toBe('2026-11-30T09:00:00.000Z');
    expect(parseSince('2026-11-30T09:00:00.5Z', now)).toBe('2026-11-30T09:00:00.500Z');
    expect(parseSince('2026-11-30T09:00:00+09:00', now)).toBe('2026-11-30T00:00:00.000Z');
    expect(parseSince('2026-11-30T00:00:00-0530', now)).toBe('2026-11-30T05:30:00.000Z');
    expect(parseSince('2026-01-01T00:30+01:00', now)).toBe('2025-12-31T23:30:00.000Z');
  });

  test.each([
    'yesterday',
    '',
    '   ',
    '24',
    'h',
    '7w',
    '1.5h',
    '-24h',
    '0d',
    '1234567d',
    '2026-11',
    '2026-1-5',
    '26-11-30',
    '2026-13-01',
    '2026-00-10',
    '2026-02-29',
    '2026-04-31',
    '2026-11-30T24:00',
    '2026-11-30T09:60',
    '2026-11-30T09:00:60',
    '2026-11-30T9:00',
    '2026-11-30T09',
    '2026-11-30T09:00:00+24:00',
    '2026-11-30T09:00:00+09:60',
    '2026-11-30T09:00:00 +09:00',
    '1969-12-31',
    '30 Nov 2026',
    '1764460800',
  ])('refuses %j with a SinceError that says what it takes', (text) => {
    expect(() => parseSince(text, now)).toThrow(SinceError);
    expect(() => parseSince(text, now)).toThrow(`--since ${JSON.stringify(text)} is not a time: use a date (2026-11-30, local midnight)`);
  });
});

describe('listCalls, the table’s cells', () => {
  const record = (callSid: string, firstAt: number): CallRecord => ({
    callSid,
    line: LINE,
    direction: 'incoming',
    remote: CALLER,
    legs: { [callSid]: { role: 'caller', to: LINE, status: 'completed', order: [4, -1, firstAt], endedAt: firstAt + 1000 } },
    firstAt,
  });

  /** A CallLog whose list pages `records` (newest first) two at a time, seeing each request. */
  function pagedLog(records: CallRecord[]) {
    const requests: { line: string; limit: number; cursor?: string; since?: string }[] = [];
    const log = {
      list: async (line: string, opts: { limit: number; cursor?: string; since?: string }): Promise<CallPage> => {
        requests.push({ line, ...opts });
        const start = opts.cursor === undefined ? 0 : Number(opts.cursor);
        const end = start + opts.limit;
        return { calls: records.slice(start, end), ...(end < records.length ? { cursor: String(end) } : {}) };
      },
    } as unknown as CallLog;
    return { log, requests };
  }

  test('reads every page with the cursor it is given, the number normalised, since passed on', async () => {
    const records = [5, 4, 3, 2, 1].map((i) => record(`CA${String(i).padStart(32, '0')}`, Date.UTC(2026, 10, 30, i)));
    const { log, requests } = pagedLog(records);
    const views = await listCalls(log, LINE_TYPED, { since: '2026-11-30T00:00:00.000Z', pageSize: 2 });
    expect(views).toEqual(records.map(callView));
    expect(requests).toEqual([
      { line: LINE, limit: 2, since: '2026-11-30T00:00:00.000Z' },
      { line: LINE, limit: 2, cursor: '2', since: '2026-11-30T00:00:00.000Z' },
      { line: LINE, limit: 2, cursor: '4', since: '2026-11-30T00:00:00.000Z' },
    ]);
  });

  test('a call seen on two pages (written while they were read) is listed once; newest first', async () => {
    const a = record(`CA${'a'.repeat(32)}`, Date.UTC(2026, 10, 30, 3));
    const b = record(`CA${'b'.repeat(32)}`, Date.UTC(2026, 10, 30, 2));
    const { log } = pagedLog([a, b, a]);
    expect((await listCalls(log, LINE, { pageSize: 1 })).map((v) => v.callSid)).toEqual([a.callSid, b.callSid]);
  });

  test('an empty log: no calls, one request', async () => {
    const { log, requests } = pagedLog([]);
    expect(await listCalls(log, LINE)).toEqual([]);
    expect(requests).toEqual([{ line: LINE, limit: CALLS_PAGE_SIZE }]);
  });

  test('durations, local times, placeholders', () => {
    expect([0, 5, 65, 600, 3599, 3600, 3725].map(formatDuration)).toEqual(['0:00', '0:05', '1:05', '10:00', '59:59', '1:00:00', '1:02:05']);
    expect(localTime('2026-11-30T00:00:00.000Z')).toMatch(/^2026-11-(29|30) \d{2}:\d{2}:00 [+-]\d{2}:\d{2}$/);
    const at = new Date('2026-11-30T00:00:00.000Z');
    const offset = -at.getTimezoneOffset();
    const shifted = new Date(at.getTime() + offset * MINUTE).toISOString();
    expect(localTime(at.toISOString()).slice(0, 19)).toBe(`${shifted.slice(0, 10)} ${shifted.slice(11, 19)}`);
    const view: CallView = {
      callSid: `CA${'c'.repeat(32)}`,
      line: LINE,
      direction: 'outgoing',
      remote: '',
      startedAt: at.toISOString(),
      outcome: 'refused',
      refusedBecause: 'premium-rate',
      legs: [],
    };
    expect(callRows([view])).toEqual([
      ['STARTED', 'DIRECTION', 'REMOTE', 'MEMBER', 'OUTCOME', 'DURATION'],
      [localTime(view.startedAt), 'outgoing', '-', '-', 'refused (premium-rate)', '-'],
    ]);
  });
});
