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
