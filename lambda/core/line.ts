/**
 * A line: a Twilio number, the member devices it rings (at most ten: a `<Dial>` takes at most ten `<Client>`s)
 * and what happens to a call nobody answers. The rules of each setting live here, for `npm run line -- set`
 * and for the handlers alike.
 */
import type { LineSettings } from '../ports';
import { checkTimeZone, parseBusinessHours, type BusinessHours } from './business-hours';

/** `<Dial>` dials at most ten `<Client>`s at once (Twilio's limit for one Dial). */
export const MAX_LINE_MEMBERS = 10;

export type { LineSettings, RingStrategy } from '../ports';

export const RING_SECONDS = { default: 20, min: 5, max: 120 } as const;
export const MAX_GREETING_LENGTH = 500;
/** The longest message a caller may leave, seconds. */
export const VOICEMAIL_MAX_SECONDS = 120;

export const DEFAULT_LINE_SETTINGS: Readonly<LineSettings> = {
  ringSeconds: RING_SECONDS.default,
  strategy: 'simultaneous',
  voicemail: true,
  language: 'en-US',
};

/** A setting with a bad value; the message names it and what it must be. */
export class LineSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LineSettingError';
  }
}

/** A Twilio `<Say>` language tag: `en-US`, `ja-JP`, `cmn-CN`. */
const LANGUAGE = /^[a-z]{2,3}-[A-Z]{2}$/;

/**
 * Checks a line's settings as a whole and returns them (hours parsed to prove them); throws LineSettingError.
 * `isForwardAllowed` is the destination policy for the forward number (the caller's country is the line's).
 */
export function checkLineSettings(settings: LineSettings, isForwardAllowed: (e164: string) => boolean): LineSettings {
  const { ringSeconds, strategy, forwardTo, greeting, language, hours, timeZone } = settings;
  if (!Number.isInteger(ringSeconds) || ringSeconds < RING_SECONDS.min || ringSeconds > RING_SECONDS.max) {
    throw new LineSettingError(`--ring-seconds must be a whole number from ${RING_SECONDS.min} to ${RING_SECONDS.max}`);
  }
  if (strategy !== 'simultaneous' && strategy !== 'sequential') throw new LineSettingError('--strategy must be simultaneous or sequential');
  if (forwardTo !== undefined && !isForwardAllowed(forwardTo)) {
    throw new LineSettingError(`--forward-to ${forwardTo} is refused by the destination policy (country, number type or special rate)`);
  }
  if (greeting !== undefined && (greeting.trim() === '' || greeting.length > MAX_GREETING_LENGTH))
    throw new LineSettingError(`--greeting must be 1 to ${MAX_GREETING_LENGTH} characters`);
  if (!LANGUAGE.test(language)) throw new LineSettingError('--language must be a language tag such as en-US or ja-JP');
  if ((hours === undefined) !== (timeZone === undefined)) throw new LineSettingError('--hours and --timezone go together');
  if (hours !== undefined && timeZone !== undefined) {
    try {
      parseBusinessHours(hours, checkTimeZone(timeZone));
    } catch (err) {
      throw new LineSettingError(`--hours/--timezone: ${(err as Error).message}`);
    }
  }
  return settings;
}

/** The line's hours, or undefined when it is always open. */
export function lineHours(settings: Pick<LineSettings, 'hours' | 'timeZone'>): BusinessHours | undefined {
  return settings.hours && settings.timeZone ? parseBusinessHours(settings.hours, settings.timeZone) : undefined;
}

/**
 * The settings as stored (only the fields set, each of the right type): what the registry writes, and, read
 * back, what it lays over DEFAULT_LINE_SETTINGS. A field of the wrong type (a hand-edited item) is dropped.
 */
export function storedLineSettings(raw: unknown): Partial<LineSettings> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
  const r = raw as Record<string, unknown>;
  const out: Partial<LineSettings> = {};
  if (typeof r.ringSeconds === 'number') out.ringSeconds = r.ringSeconds;
  if (r.strategy === 'simultaneous' || r.strategy === 'sequential') out.strategy = r.strategy;
  if (typeof r.forwardTo === 'string') out.forwardTo = r.forwardTo;
  if (typeof r.voicemail === 'boolean') out.voicemail = r.voicemail;
  if (typeof r.greeting === 'string') out.greeting = r.greeting;
  if (typeof r.language === 'string') out.language = r.language;
  if (typeof r.hours === 'string' && typeof r.timeZone === 'string') {
    out.hours = r.hours;
    out.timeZone = r.timeZone;
  }
  return out;
}
