/**
 * Phone numbers: normalisation to E.164 and the toll-fraud policy for destinations.
 * Uses libphonenumber-js with the `max` metadata, which knows number types (premium rate, shared cost, …).
 */
import { parsePhoneNumberWithError, type CountryCode, type NumberType } from 'libphonenumber-js/max';

export type { CountryCode };

/** Longest human-formatted number we accept (E.164 has at most 15 digits; formatting adds a few). */
export const MAX_PHONE_INPUT_LENGTH = 32;
/** Only digits, a leading `+`, and the usual separators: anything else (markup, letters) is refused outright. */
const PHONE_INPUT = /^\+?[0-9\s\-().\u00a0]+$/;

export class PhoneNumberError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PhoneNumberError';
  }
}

/**
 * Normalises a number in any common human format (hyphens, spaces, parentheses, E.164) to E.164.
 * A national-format number is read in `defaultCountry`. Throws `PhoneNumberError` when it cannot be parsed.
 */
export function normalizePhoneNumber(input: string, defaultCountry?: CountryCode): string {
  const parsed = parseStrict(input, defaultCountry);
  if (!parsed.isPossible()) throw new PhoneNumberError('Not a possible phone number');
  return parsed.number;
}

/** The ISO country of an E.164 number (undefined for non-geographic numbers or when unknown). */
export function countryOfNumber(e164: string): CountryCode | undefined {
  try {
    return parseStrict(e164).country;
  } catch {
    return undefined;
  }
}

/** A Twilio Client identity: letters, digits, `_`, `-`, `.`; 1..121 characters. */
export function isValidClientName(name: string): boolean {
  return typeof name === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,120}$/.test(name);
}

export type DestinationDecision =
  | { ok: true; e164: string; country: CountryCode }
  | { ok: false; reason: 'unparsable' | 'invalid' | 'premium-rate' | 'shared-cost' | 'country-not-allowed'; country?: CountryCode };

/** Number types that are always refused as destinations (toll fraud). */
export const REFUSED_NUMBER_TYPES: readonly NumberType[] = ['PREMIUM_RATE', 'SHARED_COST'];

/**
 * The toll-fraud policy for an outgoing call's destination: the number must parse (national format read in
 * `callerCountry`), be valid, not be premium-rate or shared-cost, and be in one of `allowedCountries`
 * (default: the caller's own country).
 */
export function checkDestination(input: string, callerCountry: CountryCode | undefined, allowedCountries?: readonly string[]): DestinationDecision {
  let parsed;
  try {
    parsed = parseStrict(input, callerCountry);
  } catch {
    return { ok: false, reason: 'unparsable' };
  }
  if (!parsed.isValid()) return { ok: false, reason: 'invalid' };
  const type = parsed.getType();
  if (type === 'PREMIUM_RATE') return { ok: false, reason: 'premium-rate' };
  if (type === 'SHARED_COST') return { ok: false, reason: 'shared-cost' };
  const country = parsed.country;
  const allowed = allowedCountries ?? (callerCountry ? [callerCountry] : []);
  if (!country || !allowed.includes(country)) return { ok: false, reason: 'country-not-allowed', ...(country ? { country } : {}) };
  return { ok: true, e164: parsed.number, country };
}

function parseStrict(input: string, defaultCountry?: CountryCode) {
  if (typeof input !== 'string') throw new PhoneNumberError('A phone number must be a string');
  const trimmed = input.trim();
  if (trimmed === '' || trimmed.length > MAX_PHONE_INPUT_LENGTH || !PHONE_INPUT.test(trimmed)) {
    throw new PhoneNumberError('Not a phone number');
  }
  try {
    return parsePhoneNumberWithError(trimmed, defaultCountry ? { defaultCountry } : undefined);
  } catch (err) {
    throw new PhoneNumberError(err instanceof Error ? err.message : 'Not a phone number');
  }
}
