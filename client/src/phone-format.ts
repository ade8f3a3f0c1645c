/** Phone number formatting and parsing for the dial field (libphonenumber-js, small metadata build). */
import { AsYouType, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';

/** Keeps what a dial field may hold: digits, `*`, `#` and one leading `+`. */
export function dialChars(input: string): string {
  const trimmed = input.trim();
  const plus = trimmed.startsWith('+') ? '+' : '';
  return plus + trimmed.replace(/[^0-9*#]/g, '');
}

/** Formats a partially typed number, e.g. `0905987` → `090-5987` (JP) or `+1415555` → `+1 415 555`. */
export function formatAsYouType(input: string, country?: CountryCode): string {
  const chars = dialChars(input);
  if (chars === '' || /[*#]/.test(chars)) return chars; // service codes are left alone
  return new AsYouType(country).input(chars);
}

/** E.164 for a typed number (national format accepted for `country`), or undefined when not a possible number. */
export function toE164(input: string, country?: CountryCode): string | undefined {
  const chars = dialChars(input);
  if (chars.replace('+', '').length < 3) return undefined;
  const parsed = parsePhoneNumberFromString(chars, country);
  if (!parsed?.isPossible()) return undefined;
  return parsed.number;
}

/** The country of an E.164 number, if known. */
export function countryOf(number: string): CountryCode | undefined {
  return parsePhoneNumberFromString(dialChars(number))?.country;
}

/** Display form: national format when the number is in `home` country, international otherwise. */
export function formatForDisplay(number: string, home?: CountryCode): string {
  if (number.startsWith('client:')) return number.slice('client:'.length);
  const parsed = parsePhoneNumberFromString(dialChars(number), home);
  if (!parsed) return number;
  return parsed.country && parsed.country === home ? parsed.formatNational() : parsed.formatInternational();
}

/** A country guess from the browser's language (`ja-JP` → JP), used before the user signs in. */
export function countryFromLocale(locale: string | undefined): CountryCode | undefined {
  const region = locale?.split(/[-_]/)[1];
  return region && /^[A-Z]{2}$/.test(region.toUpperCase()) ? (region.toUpperCase() as CountryCode) : undefined;
}

/** An internal call's party: `client:<name>` (Twilio's From of a Client, and what the page dials a teammate as). */
export const CLIENT_PREFIX = 'client:';

/** The teammate's client name of `client:<name>`, else undefined. */
export function teammateOf(party: string): string | undefined {
  return party.startsWith(CLIENT_PREFIX) && party.length > CLIENT_PREFIX.length ? party.slice(CLIENT_PREFIX.length) : undefined;
}

/**
 * A call's other party for people: `Teammate Alice` for an internal call, the formatted number otherwise, and
 * `Number withheld` for what Twilio gives when the caller hides it (`anonymous`, `Restricted`, …).
 */
export function describeParty(party: string, home?: CountryCode): string {
  const teammate = teammateOf(party);
  if (teammate) return `Teammate ${teammate}`;
  if (!/[0-9]/.test(party)) return 'Number withheld';
  return formatForDisplay(party, home);
}

/** What "Call back" dials for a party: a teammate, a phone number (E.164), or nothing (withheld). */
export function callBackTarget(party: string): { teammate: string } | { number: string } | undefined {
  const teammate = teammateOf(party);
  if (teammate) return { teammate };
  const number = toE164(party);
  return number ? { number } : undefined;
}
