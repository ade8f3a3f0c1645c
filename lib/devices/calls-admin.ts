/**
 * A line's call log for operators (`bin/calls.ts`, `npm run calls -- list`): when `--since` means, every page of
 * the line's calls (the CallLog's cursor) as the page shows them (`callView`), and a plain-text table of them.
 *
 * Times without a zone are the operator's local time (the process's time zone, `TZ`), as the table shows them:
 * `2026-11-30` is local midnight, `2026-11-30T09:00` local 09:00; `Z` or an offset (`+09:00`) names the zone.
 * A duration (`30m`, `24h`, `7d`) reaches back from now.
 */
import { type CallRecord, type CallView, callView } from '../../lambda/core/call-log';
import type { CallLog } from '../../lambda/ports';
import { normalizeDeviceNumber } from './device-admin';

/** `--since` is not a time this module reads; the message says what is. */
export class SinceError extends Error {
  constructor(text: string) {
    super(
      `--since ${JSON.stringify(text)} is not a time: use a date (2026-11-30, local midnight), a date and time ` +
        '(2026-11-30T09:00 local, 2026-11-30T09:00:00Z, 2026-11-30T09:00+09:00), or a time back from now (30m, 24h, 7d).',
    );
    this.name = 'SinceError';
  }
}

const MS_PER_UNIT = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const RELATIVE = /^(\d{1,6})([mhd])$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const YEARS = { min: 1970, max: 9999 } as const;

/**
 * `--since` as the ISO-8601 UTC instant (`toISOString`, the form the calls table orders by) it means: a date, a
 * date and time (local unless it names its zone), or a duration back from `now`. Throws SinceError otherwise.
 */
export function parseSince(text: string, now: Date = new Date()): string {
  const value = text.trim();
  const relative = RELATIVE.exec(value);
  if (relative) {
    const amount = Number(relative[1]);
    if (amount === 0) throw new SinceError(text);
    const at = new Date(now.getTime() - amount * MS_PER_UNIT[relative[2] as keyof typeof MS_PER_UNIT]);
    if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < YEARS.min) throw new SinceError(text);
    return at.toISOString();
  }
  const m = DATE_TIME.exec(value);
  if (!m) throw new SinceError(text);
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0));
  const ms = Number((m[7] ?? '0').padEnd(3, '0'));
  const zone = m[8];
  // The fields must name a real date and time (no 2026-02-30, no 24:00), checked on the UTC calendar.
  const fields = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
  const real =
    year >= YEARS.min &&
    year <= YEARS.max &&
    fields.getUTCFullYear() === year &&
    fields.getUTCMonth() === month - 1 &&
    fields.getUTCDate() === day &&
    fields.getUTCHours() === hour &&
    fields.getUTCMinutes() === minute &&
    fields.getUTCSeconds() === second;
  if (!real) throw new SinceError(text);
  if (zone === undefined) {
    // Local time (a time a clock change skips moves forward, as Date does).
    const local = new Date(year, month - 1, day, hour, minute, second, ms);
    if (Number.isNaN(local.getTime())) throw new SinceError(text);
    return local.toISOString();
  }
  if (zone === 'Z') return fields.toISOString();
  const offset = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  const offsetHours = Number(offset?.[2]);
  const offsetMinutes = Number(offset?.[3]);
  if (!offset || offsetHours > 23 || offsetMinutes > 59) throw new SinceError(text);
  const sign = offset[1] === '+' ? 1 : -1;
  return new Date(fields.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000).toISOString();
}

/** How many calls one request reads (the CLI reads every page). */
export const CALLS_PAGE_SIZE = 50;

/** The line's calls (any common format of its number), started at or after `since` (ISO-8601), newest first. */
export async function listCalls(log: CallLog, number: string, opts: { since?: string; pageSize?: number } = {}): Promise<CallView[]> {
  const line = normalizeDeviceNumber(number);
  const records: CallRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await log.list(line, {
      limit: opts.pageSize ?? CALLS_PAGE_SIZE,
      ...(cursor !== undefined ? { cursor } : {}),
      ...(opts.since !== undefined ? { since: opts.since } : {}),
    });
    records.push(...page.calls);
    cursor = page.cursor;
  } while (cursor !== undefined);
  // A call written while the pages are read may show up on two of them: once (its latest record) is enough.
  const byCall = new Map(records.map((r) => [r.callSid, r]));
  // The index gives them newest first already; calls started in the same millisecond in one order too.
  return [...byCall.values()]
    .map(callView)
    .sort((a, b) => (a.startedAt === b.startedAt ? (a.callSid < b.callSid ? -1 : 1) : a.startedAt < b.startedAt ? 1 : -1));
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** An instant as local time with its offset from UTC, e.g. `2026-11-30 09:00:05 +09:00`. */
export function localTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const offset = -at.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ` +
    `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** Seconds as `m:ss` (`h:mm:ss` from an hour). */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

export const CALLS_TABLE_HEADER = ['STARTED', 'DIRECTION', 'REMOTE', 'MEMBER', 'OUTCOME', 'DURATION'];

/** The rows of the table (header first); `-` where a call has no value. */
export function callRows(views: readonly CallView[]): string[][] {
  return [
    CALLS_TABLE_HEADER,
    ...views.map((v) => [
      localTime(v.startedAt),
      v.direction,
      v.remote || '-',
      v.member ?? '-',
      v.refusedBecause !== undefined ? `${v.outcome} (${v.refusedBecause})` : v.outcome,
      v.durationSeconds !== undefined ? formatDuration(v.durationSeconds) : '-',
    ]),
  ];
}
