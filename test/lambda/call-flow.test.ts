/**
 * The pure call flow of a team line (issue 14): business hours (parsing, time zones, DST, wrap-around day spans,
 * edge minutes, refusals), a line's settings, where a call goes at each step (firstStep / nextStep) and the stage
 * that rides in the action URL — with properties: every path ends within members + 3 webhooks whatever Twilio
 * reports, a ring never dials more than 10 clients, and a forward happens only to a number the destination
 * policy allows now.
 */
import fc from 'fast-check';
import { checkTimeZone, HoursError, isOpen, parseBusinessHours } from '../../lambda/core/business-hours';
import {
  type CallStage,
  type DialOutcome,
  type FlowStep,
  firstStep,
  type LineCall,
  nextStep,
  stageFromQuery,
  stageToQuery,
} from '../../lambda/core/call-flow';
import { checkDestination, phoneRulesWithTypes } from '../../lambda/core/destination-policy';
import {
  checkLineSettings,
  DEFAULT_LINE_SETTINGS,
  LineSettingError,
  type LineSettings,
  lineHours,
  MAX_GREETING_LENGTH,
  MAX_LINE_MEMBERS,
  RING_SECONDS,
  storedLineSettings,
} from '../../lambda/core/line';
import { API_PATHS } from '../../lambda/core/paths';
import { phrasesFor } from '../../lambda/core/phrases';
import { flowStepTwiml } from '../../lambda/core/twiml';
import { webhookUrl } from '../../lambda/core/webhook';
import { mayForward } from '../../lambda/handlers/forward-policy';
import { lineCall } from '../../lambda/handlers/line-call';
import type { Device, Line } from '../../lambda/ports';
import { childElement, childElements, dialledClients, parseTwiml, textOf, verbs } from '../support/lines';

const LINE = '+815031234567';
const at = (iso: string) => new Date(iso);

// ---------------------------------------------------------------------------------------------------------
// Business hours

describe('business hours: parsing', () => {
  test('"Mon-Fri 09:00-18:00" is five days, one range in minutes [start, end)', () => {
    expect(parseBusinessHours('Mon-Fri 09:00-18:00', 'Asia/Tokyo')).toEqual({
      rules: [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], ranges: [[540, 1080]] }],
      timeZone: 'Asia/Tokyo',
    });
  });

  test('several rules, lists of days, several ranges, any case, 24:00 as the end of the day', () => {
    const hours = parseBusinessHours('mon,WED,Fri 09:00-12:00, 13:00-18:00 ; Sat 10:00-14:00; Sun 00:00-24:00', 'UTC');
    expect(hours.rules).toEqual([
      {
        days: ['Mon', 'Wed', 'Fri'],
        ranges: [
          [540, 720],
          [780, 1080],
        ],
      },
      { days: ['Sat'], ranges: [[600, 840]] },
      { days: ['Sun'], ranges: [[0, 1440]] },
    ]);
  });

  test('a span may wrap around the week: Fri-Mon is Fri, Sat, Sun, Mon; a one-day span is that day', () => {
    expect(parseBusinessHours('Fri-Mon 10:00-12:00', 'UTC').rules[0].days).toEqual(['Sun', 'Mon', 'Fri', 'Sat']);
    expect(parseBusinessHours('Sat-Sat 10:00-12:00', 'UTC').rules[0].days).toEqual(['Sat']);
    expect(parseBusinessHours('Sun-Sat 10:00-12:00', 'UTC').rules[0].days).toHaveLength(7);
  });

  test.each([
    ['', 'UTC', /no hours given/],
    [' ; ; ', 'UTC', /no hours given/],
    ['Mon', 'UTC', /is not a rule: use "<days> <HH:MM-HH:MM>"/],
    ['Funday 09:00-10:00', 'UTC', /"Funday" is not a day: use Mon, Tue/],
    ['Mon- 09:00-10:00', 'UTC', /"" is not a day/],
    ['Mon 9-17', 'UTC', /"9" is not a time: use HH:MM/],
    ['Mon 09:00', 'UTC', /"09:00" is not a range: use HH:MM-HH:MM/],
    ['Mon 18:00-09:00', 'UTC', /ends before it starts \(a range may not cross midnight: write two rules\)/],
    ['Mon 09:00-09:00', 'UTC', /ends before it starts/],
    ['Mon 09:60-10:00', 'UTC', /"09:60" is not a time of day/],
    ['Mon 25:00-26:00', 'UTC', /"25:00" is not a time of day/],
    ['Mon 24:00-24:00', 'UTC', /"24:00" is not a time of day/],
    ['Mon 09:00-24:01', 'UTC', /"24:01" is not a time of day/],
    ['Mon-Fri 09:00-18:00', 'Mars/Olympus_Mons', /"Mars\/Olympus_Mons" is not a time zone: use an IANA name/],
    ['Mon-Fri 09:00-18:00', '', /is not a time zone/],
  ])('%j in %j is refused: %s', (hours, zone, message) => {
    const parse = () => parseBusinessHours(hours, zone);
    expect(parse).toThrow(HoursError);
    expect(parse).toThrow(message);
  });

  // A part with a third piece is malformed: it must not be read as its first two pieces.
  test.each([
    ['Mon-Wed-Fri 09:00-18:00', 'days'],
    ['Mon-Fri 09:00-12:00-18:00', 'times'],
  ])('%j (three pieces in one span) is refused, not silently shortened (%s)', (hours) => {
    expect(() => parseBusinessHours(hours, 'UTC')).toThrow(HoursError);
  });

  test('checkTimeZone takes IANA names and refuses others', () => {
    expect(checkTimeZone('America/New_York')).toBe('America/New_York');
    expect(() => checkTimeZone('Not/AZone')).toThrow(/is not a time zone/);
  });
});

describe('business hours: isOpen', () => {
  const tokyo = parseBusinessHours('Mon-Fri 09:00-18:00', 'Asia/Tokyo');

  test('in the line’s time zone, start minute included, end minute excluded', () => {
    // Monday 3 June 2024 in Tokyo (UTC+9, no DST)
    expect(isOpen(tokyo, at('2024-06-02T23:59:59Z'))).toBe(false); // 08:59:59
    expect(isOpen(tokyo, at('2024-06-03T00:00:00Z'))).toBe(true); // 09:00
    expect(isOpen(tokyo, at('2024-06-03T08:59:59Z'))).toBe(true); // 17:59:59
    expect(isOpen(tokyo, at('2024-06-03T09:00:00Z'))).toBe(false); // 18:00
    // Saturday 09:00 in Tokyo
    expect(isOpen(tokyo, at('2024-06-08T00:00:00Z'))).toBe(false);
  });

  test('the day is the day in the time zone, not in UTC', () => {
    const mondayMorning = parseBusinessHours('Mon 00:00-01:00', 'Asia/Tokyo');
    // Sunday 15:30 UTC is Monday 00:30 in Tokyo
    expect(isOpen(mondayMorning, at('2024-06-02T15:30:00Z'))).toBe(true);
    expect(isOpen(mondayMorning, at('2024-06-03T00:30:00Z'))).toBe(false);
  });

  test('a half-hour zone (Asia/Kolkata, UTC+5:30)', () => {
    const hours = parseBusinessHours('Mon 09:00-09:30', 'Asia/Kolkata');
    expect(isOpen(hours, at('2024-06-03T03:29:00Z'))).toBe(false);
    expect(isOpen(hours, at('2024-06-03T03:30:00Z'))).toBe(true);
    expect(isOpen(hours, at('2024-06-03T03:59:00Z'))).toBe(true);
    expect(isOpen(hours, at('2024-06-03T04:00:00Z'))).toBe(false);
  });

  test('daylight saving time: the local hours follow the clocks (America/New_York, spring forward)', () => {
    const hours = parseBusinessHours('Sun 09:00-10:00', 'America/New_York');
    // 3 March 2024, EST (UTC-5): 09:00 local is 14:00 UTC
    expect(isOpen(hours, at('2024-03-03T13:30:00Z'))).toBe(false);
    expect(isOpen(hours, at('2024-03-03T14:30:00Z'))).toBe(true);
    // 10 March 2024, EDT (UTC-4) from 02:00 local: 09:00 local is 13:00 UTC
    expect(isOpen(hours, at('2024-03-10T13:30:00Z'))).toBe(true);
    expect(isOpen(hours, at('2024-03-10T14:30:00Z'))).toBe(false);
  });

  test('daylight saving time: the repeated hour of fall back is open both times; the skipped one never exists', () => {
    const repeated = parseBusinessHours('Sun 01:00-02:00', 'America/New_York');
    expect(isOpen(repeated, at('2024-11-03T05:30:00Z'))).toBe(true); // 01:30 EDT
    expect(isOpen(repeated, at('2024-11-03T06:30:00Z'))).toBe(true); // 01:30 EST
    expect(isOpen(repeated, at('2024-11-03T07:00:00Z'))).toBe(false); // 02:00 EST
    const skipped = parseBusinessHours('Sun 02:00-03:00', 'America/New_York');
    // 10 March 2024: 01:59:59 EST is followed by 03:00 EDT
    expect(isOpen(skipped, at('2024-03-10T06:59:59Z'))).toBe(false);
    expect(isOpen(skipped, at('2024-03-10T07:00:00Z'))).toBe(false);
  });

  test('Europe/London in summer time (BST, UTC+1)', () => {
    const hours = parseBusinessHours('Mon-Fri 09:00-17:30', 'Europe/London');
    expect(isOpen(hours, at('2024-07-01T07:59:00Z'))).toBe(false); // 08:59 BST
    expect(isOpen(hours, at('2024-07-01T08:00:00Z'))).toBe(true); // 09:00 BST
    expect(isOpen(hours, at('2024-07-01T16:29:00Z'))).toBe(true); // 17:29 BST
    expect(isOpen(hours, at('2024-07-01T16:30:00Z'))).toBe(false); // 17:30 BST
    // the same UTC time in winter (GMT, UTC+0) is before opening
    expect(isOpen(hours, at('2024-07-01T08:30:00Z'))).toBe(true); // 09:30 BST
    expect(isOpen(hours, at('2024-01-08T08:30:00Z'))).toBe(false); // 08:30 GMT
    expect(isOpen(hours, at('2024-01-08T09:00:00Z'))).toBe(true); // 09:00 GMT
  });

  test('wrap-around days and 24:00: open through Sunday night, closed at Monday 00:00', () => {
    const weekend = parseBusinessHours('Fri-Sun 00:00-24:00', 'UTC');
    expect(isOpen(weekend, at('2024-06-06T23:59:59Z'))).toBe(false); // Thursday
    expect(isOpen(weekend, at('2024-06-07T00:00:00Z'))).toBe(true); // Friday
    expect(isOpen(weekend, at('2024-06-09T23:59:59Z'))).toBe(true); // Sunday
    expect(isOpen(weekend, at('2024-06-10T00:00:00Z'))).toBe(false); // Monday
  });

  test('several ranges: closed over lunch', () => {
    const hours = parseBusinessHours('Mon 09:00-12:00,13:00-18:00', 'UTC');
    expect(isOpen(hours, at('2024-06-03T11:59:00Z'))).toBe(true);
    expect(isOpen(hours, at('2024-06-03T12:00:00Z'))).toBe(false);
    expect(isOpen(hours, at('2024-06-03T12:59:00Z'))).toBe(false);
    expect(isOpen(hours, at('2024-06-03T13:00:00Z'))).toBe(true);
  });

  test('property: a whole-week rule is always open; a one-day rule is open on exactly that weekday in its zone', () => {
    const zones = ['UTC', 'Asia/Tokyo', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Pacific/Auckland', 'America/St_Johns'];
    const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2037-12-31T00:00:00Z'), noInvalidDate: true }),
        (zone, when) => {
          expect(isOpen(parseBusinessHours('Mon-Sun 00:00-24:00', zone), when)).toBe(true);
          const weekday = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short' }).format(when);
          for (const day of days) expect(isOpen(parseBusinessHours(`${day} 00:00-24:00`, zone), when)).toBe(day === weekday);
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// A line's settings

describe('checkLineSettings', () => {
  const allowJp = (e164: string) => checkDestination(e164, 'JP').ok;
  const settings = (overrides: Partial<LineSettings> = {}): LineSettings => ({ ...DEFAULT_LINE_SETTINGS, ...overrides });

  test('the defaults pass and are returned as given; every field set well passes', () => {
    expect(checkLineSettings(settings(), allowJp)).toEqual(DEFAULT_LINE_SETTINGS);
    const full = settings({
      ringSeconds: 30,
      strategy: 'sequential',
      forwardTo: '+819059876543',
      voicemail: false,
      greeting: 'Hello, you reached the team.',
      language: 'ja-JP',
      hours: 'Mon-Fri 09:00-18:00',
      timeZone: 'Asia/Tokyo',
    });
    expect(checkLineSettings(full, allowJp)).toBe(full);
  });

  test.each([
    [{ ringSeconds: RING_SECONDS.min - 1 }, /--ring-seconds must be a whole number from 5 to 120/],
    [{ ringSeconds: RING_SECONDS.max + 1 }, /--ring-seconds/],
    [{ ringSeconds: 20.5 }, /--ring-seconds/],
    [{ ringSeconds: Number.NaN }, /--ring-seconds/],
    [{ strategy: 'round-robin' as LineSettings['strategy'] }, /--strategy must be simultaneous or sequential/],
    [{ forwardTo: '+81990123456' }, /--forward-to \+81990123456 is refused by the destination policy/],
    [{ forwardTo: '+12025550123' }, /--forward-to \+12025550123 is refused/],
    [{ greeting: '' }, /--greeting must be 1 to 500 characters/],
    [{ greeting: '   ' }, /--greeting must be 1 to 500 characters/],
    [{ greeting: 'x'.repeat(MAX_GREETING_LENGTH + 1) }, /--greeting/],
    [{ language: 'japanese' }, /--language must be a language tag such as en-US or ja-JP/],
    [{ language: 'ja' }, /--language/],
    [{ hours: 'Mon-Fri 09:00-18:00' }, /--hours and --timezone go together/],
    [{ timeZone: 'Asia/Tokyo' }, /--hours and --timezone go together/],
    [{ hours: 'Mon-Fri 18:00-09:00', timeZone: 'Asia/Tokyo' }, /--hours\/--timezone: "18:00-09:00" ends before it starts/],
    [{ hours: 'Mon-Fri 09:00-18:00', timeZone: 'Tokyo' }, /--hours\/--timezone: "Tokyo" is not a time zone/],
  ])('%o is refused: %s', (overrides, message) => {
    const check = () => checkLineSettings(settings(overrides), allowJp);
    expect(check).toThrow(LineSettingError);
    expect(check).toThrow(message);
  });

  test('the bounds themselves pass: 5 and 120 seconds, a 500-character greeting', () => {
    expect(() => checkLineSettings(settings({ ringSeconds: 5 }), allowJp)).not.toThrow();
    expect(() => checkLineSettings(settings({ ringSeconds: 120 }), allowJp)).not.toThrow();
    expect(() => checkLineSettings(settings({ greeting: 'x'.repeat(MAX_GREETING_LENGTH) }), allowJp)).not.toThrow();
  });

  test('the forward number is judged by the policy it is given (another country when allowed)', () => {
    const allowJpUs = (e164: string) => checkDestination(e164, 'JP', ['JP', 'US']).ok;
    expect(() => checkLineSettings(settings({ forwardTo: '+12025550123' }), allowJpUs)).not.toThrow();
  });

  test('lineHours: undefined when always open, parsed otherwise', () => {
    expect(lineHours(DEFAULT_LINE_SETTINGS)).toBeUndefined();
    expect(lineHours({ hours: 'Sat 10:00-11:00', timeZone: 'UTC' })?.rules).toEqual([{ days: ['Sat'], ranges: [[600, 660]] }]);
  });

  test('storedLineSettings keeps only well-typed fields (a hand-edited item), and hours only with a zone', () => {
    expect(storedLineSettings(undefined)).toEqual({});
    expect(storedLineSettings([1, 2])).toEqual({});
    expect(
      storedLineSettings({
        ringSeconds: '30',
        strategy: 'loud',
        forwardTo: 819059876543,
        voicemail: 'yes',
        greeting: 'Hi',
        language: 'ja-JP',
        hours: 'Mon 09:00-10:00',
        secretHash: 'scrypt$…',
      }),
    ).toEqual({ greeting: 'Hi', language: 'ja-JP' });
    expect(storedLineSettings({ ringSeconds: 30, strategy: 'sequential', voicemail: false, hours: 'Mon 09:00-10:00', timeZone: 'UTC' })).toEqual({
      ringSeconds: 30,
      strategy: 'sequential',
      voicemail: false,
      hours: 'Mon 09:00-10:00',
      timeZone: 'UTC',
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// firstStep / nextStep, path by path

const MEMBERS = ['alice', 'bob', 'carol'];
const NOON_MONDAY_TOKYO = at('2024-06-03T03:00:00Z');
const SUNDAY_TOKYO = at('2024-06-09T03:00:00Z');

function call(overrides: Partial<LineSettings> = {}, members = MEMBERS, forwardAllowed = overrides.forwardTo !== undefined): LineCall {
  return { settings: { ...DEFAULT_LINE_SETTINGS, ...overrides }, members, forwardAllowed };
}

const NO_ANSWER: DialOutcome = { dialCallStatus: 'no-answer', bridged: false, callStatus: 'in-progress' };
const ANSWERED: DialOutcome = { dialCallStatus: 'completed', bridged: true, callStatus: 'in-progress' };

describe('firstStep', () => {
  test('simultaneous: every member at once, for ring-seconds, then the ring stage past the last member', () => {
    expect(firstStep(call({ ringSeconds: 25 }), NOON_MONDAY_TOKYO)).toEqual({
      kind: 'ring',
      clients: MEMBERS,
      timeout: 25,
      after: { stage: 'ring', next: 3 },
    });
  });

  test('sequential: the first member alone, next = 1', () => {
    expect(firstStep(call({ strategy: 'sequential' }), NOON_MONDAY_TOKYO)).toEqual({
      kind: 'ring',
      clients: ['alice'],
      timeout: 20,
      after: { stage: 'ring', next: 1 },
    });
  });

  test('within hours it rings; outside hours straight to voicemail (the line’s greeting and language), or the apology without voicemail', () => {
    const hours = { hours: 'Mon-Fri 09:00-18:00', timeZone: 'Asia/Tokyo', forwardTo: '+819059876543' };
    expect(firstStep(call(hours), NOON_MONDAY_TOKYO).kind).toBe('ring');
    expect(firstStep(call({ ...hours, greeting: 'We are closed.', language: 'ja-JP' }), SUNDAY_TOKYO)).toEqual({
      kind: 'voicemail',
      greeting: 'We are closed.',
      language: 'ja-JP',
      after: { stage: 'recorded' },
    });
    // no forward outside hours, even when one is set and allowed
    expect(firstStep(call({ ...hours, voicemail: false }), SUNDAY_TOKYO)).toEqual({ kind: 'apology', language: 'en-US' });
  });

  test('a line without members: the first step hands over (continue); the action webhook then forwards when allowed, else voicemail, else the apology', () => {
    const handOver = { kind: 'continue', after: { stage: 'ring', next: 0 } };
    expect(firstStep(call({ forwardTo: '+819059876543' }, []), NOON_MONDAY_TOKYO)).toEqual(handOver);
    expect(firstStep(call({ voicemail: false }, []), NOON_MONDAY_TOKYO)).toEqual(handOver);
    // out of hours the first step still goes straight to voicemail
    const closed = { hours: 'Mon-Fri 09:00-18:00', timeZone: 'Asia/Tokyo' };
    expect(firstStep(call({ ...closed, forwardTo: '+819059876543' }, []), SUNDAY_TOKYO)).toMatchObject({ kind: 'voicemail' });
    const redirected = { dialCallStatus: '' }; // a <Redirect> reports no Dial
    expect(nextStep(call({ forwardTo: '+819059876543' }, []), { stage: 'ring', next: 0 }, redirected)).toEqual({
      kind: 'forward',
      number: '+819059876543',
      timeout: 20,
      after: { stage: 'forward' },
    });
    expect(nextStep(call({ forwardTo: '+819059876543' }, [], false), { stage: 'ring', next: 0 }, redirected)).toEqual({
      kind: 'voicemail',
      language: 'en-US',
      after: { stage: 'recorded' },
    });
    expect(nextStep(call({ voicemail: false }, []), { stage: 'ring', next: 0 }, redirected)).toEqual({ kind: 'apology', language: 'en-US' });
  });
});

describe('nextStep', () => {
  test('a member answered (completed, or answered, or DialBridged=true): hang up when the call ends', () => {
    const c = call({ forwardTo: '+819059876543' });
    expect(nextStep(c, { stage: 'ring', next: 3 }, ANSWERED)).toEqual({ kind: 'hangup' });
    expect(nextStep(c, { stage: 'ring', next: 3 }, { dialCallStatus: 'completed' })).toEqual({ kind: 'hangup' });
    expect(nextStep(c, { stage: 'ring', next: 3 }, { dialCallStatus: 'answered' })).toEqual({ kind: 'hangup' });
  });

  test.each(['no-answer', 'busy', 'failed', 'canceled', ''])('members not reached (%j) → forward when set and allowed', (status) => {
    expect(nextStep(call({ forwardTo: '+819059876543' }), { stage: 'ring', next: 3 }, { dialCallStatus: status, callStatus: 'in-progress' })).toEqual(
      {
        kind: 'forward',
        number: '+819059876543',
        timeout: 20,
        after: { stage: 'forward' },
      },
    );
  });

  test('members not reached → voicemail without a forward, or with one the policy now refuses; the apology without voicemail', () => {
    expect(nextStep(call(), { stage: 'ring', next: 3 }, NO_ANSWER)).toEqual({ kind: 'voicemail', language: 'en-US', after: { stage: 'recorded' } });
    expect(nextStep(call({ forwardTo: '+12025550123' }, MEMBERS, false), { stage: 'ring', next: 3 }, NO_ANSWER).kind).toBe('voicemail');
    expect(nextStep(call({ voicemail: false, language: 'ja-JP' }), { stage: 'ring', next: 3 }, NO_ANSWER)).toEqual({
      kind: 'apology',
      language: 'ja-JP',
    });
  });

  test('the forwarded person accepted (bridged) → hang up; declined or no answer (not bridged) → voicemail, else the apology', () => {
    const c = call({ forwardTo: '+819059876543' });
    expect(nextStep(c, { stage: 'forward' }, { dialCallStatus: 'completed', bridged: true })).toEqual({ kind: 'hangup' });
    // the forwarded phone answered (its voicemail, or a person who did not press 1): completed, but never bridged
    expect(nextStep(c, { stage: 'forward' }, { dialCallStatus: 'completed', bridged: false }).kind).toBe('voicemail');
    expect(nextStep(c, { stage: 'forward' }, { dialCallStatus: 'no-answer' }).kind).toBe('voicemail');
    expect(nextStep(c, { stage: 'forward' }, { dialCallStatus: 'busy' }).kind).toBe('voicemail');
    expect(nextStep(call({ forwardTo: '+819059876543', voicemail: false }), { stage: 'forward' }, { dialCallStatus: 'busy' }).kind).toBe('apology');
  });

  test('sequential: each member in turn after the previous one, then the forward', () => {
    const c = call({ strategy: 'sequential', forwardTo: '+819059876543' });
    expect(nextStep(c, { stage: 'ring', next: 1 }, NO_ANSWER)).toEqual({
      kind: 'ring',
      clients: ['bob'],
      timeout: 20,
      after: { stage: 'ring', next: 2 },
    });
    expect(nextStep(c, { stage: 'ring', next: 2 }, { dialCallStatus: 'busy' })).toEqual({
      kind: 'ring',
      clients: ['carol'],
      timeout: 20,
      after: { stage: 'ring', next: 3 },
    });
    expect(nextStep(c, { stage: 'ring', next: 3 }, NO_ANSWER).kind).toBe('forward');
    // a member answered: no one else rings
    expect(nextStep(c, { stage: 'ring', next: 1 }, ANSWERED)).toEqual({ kind: 'hangup' });
  });

  test('the caller hung up (CallStatus completed or canceled): hang up at any stage, whatever the Dial says', () => {
    const c = call({ strategy: 'sequential', forwardTo: '+819059876543' });
    for (const callStatus of ['completed', 'canceled']) {
      for (const stage of [{ stage: 'ring', next: 1 }, { stage: 'forward' }, { stage: 'recorded' }] as CallStage[]) {
        expect(nextStep(c, stage, { dialCallStatus: 'canceled', callStatus })).toEqual({ kind: 'hangup' });
        expect(nextStep(c, stage, { dialCallStatus: 'no-answer', bridged: false, callStatus })).toEqual({ kind: 'hangup' });
      }
    }
  });

  test('after the message: goodbye in the line’s language', () => {
    expect(nextStep(call({ language: 'ja-JP' }), { stage: 'recorded' }, { dialCallStatus: '' })).toEqual({ kind: 'goodbye', language: 'ja-JP' });
  });
});

// ---------------------------------------------------------------------------------------------------------
// The stage in the action URL

describe('stageToQuery / stageFromQuery', () => {
  const stages = fc.oneof(
    fc.record({ stage: fc.constant('ring' as const), next: fc.integer({ min: 0, max: MAX_LINE_MEMBERS }) }),
    fc.constant({ stage: 'forward' as const }),
    fc.constant({ stage: 'recorded' as const }),
  );

  test('property: every stage survives the round trip, through a real action URL as Twilio calls it', () => {
    fc.assert(
      fc.property(stages, (stage) => {
        expect(stageFromQuery(stageToQuery(stage))).toEqual(stage);
        const url = new URL(webhookUrl('https://abc.execute-api.ap-northeast-1.amazonaws.com/prod', API_PATHS.callAction, stageToQuery(stage)));
        expect(stageFromQuery(Object.fromEntries(url.searchParams))).toEqual(stage);
      }),
    );
  });

  test.each([
    [{}],
    [{ stage: 'ring' }],
    [{ stage: 'ring', next: '' }],
    [{ stage: 'ring', next: 'abc' }],
    [{ stage: 'ring', next: '-1' }],
    [{ stage: 'ring', next: '1.5' }],
    [{ stage: 'ring', next: '100' }],
    [{ stage: 'ring', next: '1e1' }],
    [{ stage: 'RING', next: '1' }],
    [{ stage: 'voicemail' }],
    [{ stage: '__proto__' }],
    [{ stage: 'forward ' }],
    [{ next: '1' }],
  ])('junk %j is not a stage', (query) => {
    expect(stageFromQuery(query as Record<string, string>)).toBeUndefined();
  });

  test('property: any query is refused or read as a stage whose own query it contains', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('stage', 'next', 'line', 'x'),
          fc.oneof(fc.string(), fc.constantFrom('ring', 'forward', 'recorded', '0', '7', '10')),
        ),
        (query) => {
          const stage = stageFromQuery(query);
          if (stage === undefined) return;
          const own = stageToQuery(stage);
          expect(own.stage).toBe(query.stage);
          if (stage.stage === 'ring') expect(Number(query.next)).toBe(stage.next);
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties of whole paths

/** What Twilio may report when a Dial (or Record) ends. */
const outcomes: fc.Arbitrary<DialOutcome> = fc.record(
  {
    dialCallStatus: fc.constantFrom('completed', 'answered', 'busy', 'no-answer', 'failed', 'canceled', ''),
    bridged: fc.boolean(),
    callStatus: fc.constantFrom('in-progress', 'ringing', 'completed', 'canceled'),
  },
  { requiredKeys: ['dialCallStatus'] },
);

const clientNames = fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}$/), { maxLength: 15 });

const settingsArb: fc.Arbitrary<LineSettings> = fc
  .record(
    {
      ringSeconds: fc.integer({ min: RING_SECONDS.min, max: RING_SECONDS.max }),
      strategy: fc.constantFrom('simultaneous' as const, 'sequential' as const),
      forwardTo: fc.constantFrom('+819059876543', '+12025550123', '+81990123456', '+81570123456', LINE, '+819012345678'),
      voicemail: fc.boolean(),
      greeting: fc.string({ minLength: 1, maxLength: 40 }),
      language: fc.constantFrom('en-US', 'ja-JP', 'fr-FR'),
      hours: fc.constantFrom('Mon-Fri 09:00-18:00', 'Sat-Sun 10:00-12:00', 'Mon-Sun 00:00-24:00'),
      timeZone: fc.constantFrom('Asia/Tokyo', 'America/New_York', 'UTC'),
    },
    { requiredKeys: ['ringSeconds', 'strategy', 'voicemail', 'language'] },
  )
  .map((s) => {
    // hours and a zone go together
    const { hours, timeZone, ...rest } = s;
    return hours !== undefined && timeZone !== undefined ? { ...rest, hours, timeZone } : rest;
  });

/** A line from the registry (at most MAX_LINE_MEMBERS members: the directory enforces it; here up to 15 to prove the cut). */
function lineOf(settings: LineSettings, names: string[]): Line {
  const members: Device[] = names.map((clientName, i) => ({ phoneNumber: LINE, clientName, createdAt: new Date(i).toISOString() }));
  return { number: LINE, settings, members };
}

const DATES = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-01-01T00:00:00Z'), noInvalidDate: true });

const TERMINAL = new Set(['hangup', 'goodbye', 'apology']);

/** Plays a call to its end: firstStep, then one action webhook per Dial/Record with the outcomes given. */
function play(c: LineCall, now: Date, reported: DialOutcome[]): { steps: FlowStep[]; webhooks: number } {
  const steps: FlowStep[] = [firstStep(c, now)];
  let webhooks = 1;
  let i = 0;
  for (;;) {
    const step = steps[steps.length - 1];
    if (TERMINAL.has(step.kind)) return { steps, webhooks };
    if (webhooks > 100) throw new Error('the call never ends');
    if (!('after' in step)) throw new Error(`a ${step.kind} step that is not terminal and has no action`);
    steps.push(nextStep(c, step.after, reported[i++ % reported.length]));
    webhooks++;
  }
}

describe('properties of every path (fast-check)', () => {
  const config = (countries?: string[]) => ({ ...(countries ? { allowedDestinationCountries: countries } : {}) });
  /** The line as the action webhook sees it: the forward number checked by the destination policy now. */
  const callOf = (line: Line, cfg: ReturnType<typeof config>) => lineCall(line, mayForward(line, cfg));
  const countriesArb = fc.option(fc.constantFrom<string[]>(['JP'], ['JP', 'US'], ['US']), { nil: undefined });

  test('every call ends (hangup, goodbye or apology) within max(members, 1) + 3 webhooks, whatever the Dial outcomes', () => {
    fc.assert(
      fc.property(
        settingsArb,
        clientNames,
        countriesArb,
        DATES,
        fc.array(outcomes, { minLength: 1, maxLength: 20 }),
        (s, names, countries, now, reported) => {
          const c = callOf(lineOf(s, names), config(countries));
          const { steps, webhooks } = play(c, now, reported);
          expect(TERMINAL.has(steps[steps.length - 1].kind)).toBe(true);
          expect(webhooks).toBeLessThanOrEqual(Math.max(c.members.length, 1) + 3);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('the longest path (sequential, nobody answers, forward declined, a message) takes exactly max(members, 1) + 3 webhooks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_LINE_MEMBERS }), (n) => {
        const names = Array.from({ length: n }, (_, i) => `m${i}`);
        const c = callOf(lineOf({ ...DEFAULT_LINE_SETTINGS, strategy: 'sequential', forwardTo: '+819059876543' }, names), config());
        const { steps, webhooks } = play(c, NOON_MONDAY_TOKYO, [NO_ANSWER]);
        expect(webhooks).toBe(Math.max(n, 1) + 3);
        // nothing to ring: the incoming webhook hands over to the action webhook at once (`continue`)
        expect(steps.map((s) => s.kind)).toEqual([...(n === 0 ? ['continue'] : names.map(() => 'ring')), 'forward', 'voicemail', 'goodbye']);
      }),
    );
  });

  test('a ring step never dials more than 10 clients, only members, each once per call', () => {
    fc.assert(
      fc.property(settingsArb, clientNames, DATES, fc.array(outcomes, { minLength: 1, maxLength: 20 }), (s, names, now, reported) => {
        const c = callOf(lineOf(s, names), config());
        const rung: string[] = [];
        for (const step of play(c, now, reported).steps) {
          if (step.kind !== 'ring') continue;
          expect(step.clients.length).toBeGreaterThan(0);
          expect(step.clients.length).toBeLessThanOrEqual(MAX_LINE_MEMBERS);
          for (const client of step.clients) expect(names.slice(0, MAX_LINE_MEMBERS)).toContain(client);
          rung.push(...step.clients);
        }
        expect(new Set(rung).size).toBe(rung.length);
      }),
      { numRuns: 300 },
    );
  });

  test('a forward step only when forwardAllowed, to the line’s forward number, which the destination policy allows now (never the line itself)', () => {
    fc.assert(
      fc.property(
        settingsArb,
        clientNames,
        countriesArb,
        DATES,
        fc.array(outcomes, { minLength: 1, maxLength: 20 }),
        (s, names, countries, now, reported) => {
          const c = callOf(lineOf(s, names), config(countries));
          for (const step of play(c, now, reported).steps) {
            if (step.kind !== 'forward') continue;
            expect(c.forwardAllowed).toBe(true);
            expect(step.number).toBe(s.forwardTo);
            expect(step.number).not.toBe(LINE);
            expect(checkDestination(step.number, phoneRulesWithTypes.countryOf(LINE), countries).ok).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('outside hours nobody rings and nothing is forwarded', () => {
    const closed = { ...DEFAULT_LINE_SETTINGS, forwardTo: '+819059876543', hours: 'Mon-Fri 09:00-18:00', timeZone: 'Asia/Tokyo' };
    fc.assert(
      fc.property(fc.boolean(), clientNames, fc.array(outcomes, { minLength: 1, maxLength: 5 }), (voicemail, names, reported) => {
        const c = callOf(lineOf({ ...closed, voicemail }, names), config());
        const kinds = play(c, SUNDAY_TOKYO, reported).steps.map((s) => s.kind);
        expect(kinds).not.toContain('ring');
        expect(kinds).not.toContain('forward');
        expect(kinds[0]).toBe(voicemail ? 'voicemail' : 'apology');
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Each step's TwiML (valid TwiML, the URLs and parameters Twilio needs)

describe('flowStepTwiml', () => {
  const base = 'https://abc.execute-api.ap-northeast-1.amazonaws.com/prod';
  const ctx = {
    caller: '+819059876543',
    line: LINE,
    callTimeLimitSeconds: 14400,
    urls: {
      action: (stage: CallStage) => webhookUrl(base, API_PATHS.callAction, stageToQuery(stage)),
      screen: webhookUrl(base, API_PATHS.forwardScreen, { stage: 'prompt', line: LINE, caller: '+819059876543' }),
      recordingStatus: webhookUrl(base, API_PATHS.recordingStatus, { line: LINE, caller: '+819059876543' }),
      memberStatus: webhookUrl(base, API_PATHS.callStatus, { leg: 'member', line: LINE, caller: '+819059876543' }),
      forwardStatus: webhookUrl(base, API_PATHS.callStatus, { leg: 'forward', line: LINE, caller: '+819059876543' }),
    },
  };
  const reportsTo = (url: string) => ({
    statusCallback: url,
    statusCallbackMethod: 'POST',
    statusCallbackEvent: 'initiated ringing answered completed',
  });

  test('ring: one <Client> per member with the caller and the line as parameters; the action carries the stage', () => {
    const doc = parseTwiml(flowStepTwiml({ kind: 'ring', clients: ['alice', 'bob'], timeout: 25, after: { stage: 'ring', next: 2 } }, ctx));
    const dial = childElement(doc, 'Dial');
    expect(dial.attrs).toEqual({ timeout: '25', answerOnBridge: 'true', action: `${base}${API_PATHS.callAction}?stage=ring&next=2`, method: 'POST' });
    expect(dialledClients(dial)).toEqual([
      { identity: 'alice', parameters: { callerNumber: '+819059876543', lineNumber: LINE } },
      { identity: 'bob', parameters: { callerNumber: '+819059876543', lineNumber: LINE } },
    ]);
    // every member's leg reports its progress to the call log
    for (const client of childElements(dial, 'Client')) expect(client.attrs).toEqual(reportsTo(ctx.urls.memberStatus));
  });

  test('continue: a POSTed <Redirect> to the action webhook with the stage, and nothing else', () => {
    const doc = parseTwiml(flowStepTwiml({ kind: 'continue', after: { stage: 'ring', next: 0 } }, ctx));
    expect(verbs(doc)).toEqual(['Redirect']);
    const redirect = childElement(doc, 'Redirect');
    expect(redirect.attrs).toEqual({ method: 'POST' });
    expect(textOf(redirect)).toBe(`${base}${API_PATHS.callAction}?stage=ring&next=0`);
  });

  test('forward: the line as caller ID, the time limit, and the screening URL on the <Number>', () => {
    const doc = parseTwiml(flowStepTwiml({ kind: 'forward', number: '+819012345678', timeout: 20, after: { stage: 'forward' } }, ctx));
    const dial = childElement(doc, 'Dial');
    expect(dial.attrs).toMatchObject({ callerId: LINE, timeLimit: '14400', action: `${base}${API_PATHS.callAction}?stage=forward` });
    const number = childElement(dial, 'Number');
    expect(textOf(number)).toBe('+819012345678');
    expect(new URL(number.attrs.url).searchParams.get('stage')).toBe('prompt');
    expect(number.attrs).toMatchObject(reportsTo(ctx.urls.forwardStatus));
  });

  test('voicemail: the greeting (or our words in the line’s language), then <Record> with a max length and the callback', () => {
    const own = parseTwiml(
      flowStepTwiml({ kind: 'voicemail', greeting: 'Leave <a> message & more', language: 'fr-FR', after: { stage: 'recorded' } }, ctx),
    );
    expect(verbs(own)).toEqual(['Say', 'Record']);
    expect(textOf(childElement(own, 'Say'))).toBe('Leave <a> message & more');
    expect(childElement(own, 'Say').attrs.language).toBe('fr-FR');
    const record = childElement(own, 'Record');
    expect(record.attrs).toMatchObject({
      maxLength: '120',
      action: `${base}${API_PATHS.callAction}?stage=recorded`,
      recordingStatusCallback: ctx.urls.recordingStatus,
      recordingStatusCallbackEvent: 'completed',
    });
    const japanese = parseTwiml(flowStepTwiml({ kind: 'voicemail', language: 'ja-JP', after: { stage: 'recorded' } }, ctx));
    expect(childElement(japanese, 'Say').attrs.language).toBe('ja-JP');
    expect(textOf(childElement(japanese, 'Say'))).toBe(phrasesFor('ja-JP').greeting);
  });

  test('apology and goodbye are said once, then <Hangup/>; hangup is just <Hangup/>', () => {
    for (const kind of ['apology', 'goodbye'] as const) {
      const doc = parseTwiml(flowStepTwiml({ kind, language: 'en-US' }, ctx));
      expect(verbs(doc)).toEqual(['Say', 'Hangup']);
      expect(childElement(doc, 'Say').attrs.loop).toBeUndefined();
    }
    expect(verbs(parseTwiml(flowStepTwiml({ kind: 'hangup' }, ctx)))).toEqual(['Hangup']);
    expect(childElements(parseTwiml(flowStepTwiml({ kind: 'hangup' }, ctx)), 'Say')).toEqual([]);
  });
});
