/**
 * A line's business hours: when its members' browsers ring. Outside them a call goes straight to voicemail.
 *
 * Written as in `npm run line -- set --hours "Mon-Fri 09:00-18:00" --timezone Asia/Tokyo`:
 * - one or more rules separated by `;`, each `<days> <ranges>`;
 * - days: a day (`Mon`), a span (`Mon-Fri`, wrapping allowed: `Fri-Mon`), or a list (`Mon,Wed,Fri`);
 * - ranges: `HH:MM-HH:MM`, several separated by `,` (`09:00-12:00,13:00-18:00`); an end of `24:00` is the end
 *   of the day; a range may not cross midnight (write two rules instead);
 * - the time zone is an IANA name (`Asia/Tokyo`, `America/New_York`), read with Intl (no data bundled).
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
export type Weekday = (typeof DAYS)[number];

export interface HoursRule {
  days: Weekday[];
  /** minutes since midnight, [start, end) */
  ranges: [number, number][];
}

export interface BusinessHours {
  rules: HoursRule[];
  timeZone: string;
}

/** A bad `--hours` or `--timezone`; the message says what is expected. */
export class HoursError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HoursError';
  }
}

const dayIndex = (name: string): number => {
  const i = DAYS.findIndex((d) => d.toLowerCase() === name.toLowerCase());
  if (i < 0) throw new HoursError(`"${name}" is not a day: use Mon, Tue, Wed, Thu, Fri, Sat or Sun`);
  return i;
};

function parseDays(text: string): Weekday[] {
  const days = new Set<Weekday>();
  for (const part of text.split(',')) {
    const pieces = part.split('-').map((s) => s.trim());
    if (pieces.length > 2) throw new HoursError(`"${part.trim()}" is not a day or a span of days: use e.g. Mon or Mon-Fri`);
    const [from, to] = pieces;
    if (to === undefined) {
      days.add(DAYS[dayIndex(from)]);
      continue;
    }
    const start = dayIndex(from);
    const end = dayIndex(to);
    for (let i = start; ; i = (i + 1) % 7) {
      days.add(DAYS[i]);
      if (i === end) break;
    }
  }
  return DAYS.filter((d) => days.has(d));
}

function parseTime(text: string, allowEndOfDay: boolean): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m) throw new HoursError(`"${text}" is not a time: use HH:MM, e.g. 09:00`);
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  if (Number(m[2]) > 59 || minutes > 24 * 60 || (minutes === 24 * 60 && !allowEndOfDay)) throw new HoursError(`"${text}" is not a time of day`);
  return minutes;
}

function parseRanges(text: string): [number, number][] {
  return text.split(',').map((part) => {
    const pieces = part.split('-');
    if (pieces.length !== 2) throw new HoursError(`"${part.trim()}" is not a range: use HH:MM-HH:MM, e.g. 09:00-18:00`);
    const [from, to] = pieces;
    const start = parseTime(from, false);
    const end = parseTime(to, true);
    if (end <= start) throw new HoursError(`"${part.trim()}" ends before it starts (a range may not cross midnight: write two rules)`);
    return [start, end];
  });
}

/** Checks an IANA time zone name with Intl; throws HoursError for an unknown one. */
export function checkTimeZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone }).format(0);
  } catch {
    throw new HoursError(`"${timeZone}" is not a time zone: use an IANA name such as Asia/Tokyo or America/New_York`);
  }
  return timeZone;
}

export function parseBusinessHours(hours: string, timeZone: string): BusinessHours {
  const rules = hours
    .split(';')
    .map((r) => r.trim())
    .filter((r) => r !== '')
    .map((rule) => {
      const m = /^(\S+)\s+(.+)$/.exec(rule);
      if (!m) throw new HoursError(`"${rule}" is not a rule: use "<days> <HH:MM-HH:MM>", e.g. "Mon-Fri 09:00-18:00"`);
      return { days: parseDays(m[1]), ranges: parseRanges(m[2].replace(/\s+/g, '')) };
    });
  if (rules.length === 0) throw new HoursError('no hours given: use e.g. "Mon-Fri 09:00-18:00"');
  return { rules, timeZone: checkTimeZone(timeZone) };
}

/** The weekday and minute of the day at `at` in the time zone. */
function localTime(at: Date, timeZone: string): { day: Weekday; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(
    at,
  );
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { day: get('weekday') as Weekday, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** True when `at` falls within the hours. */
export function isOpen(hours: BusinessHours, at: Date): boolean {
  const { day, minute } = localTime(at, hours.timeZone);
  return hours.rules.some((r) => r.days.includes(day) && r.ranges.some(([start, end]) => minute >= start && minute < end));
}
