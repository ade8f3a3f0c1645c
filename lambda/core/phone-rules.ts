/**
 * Phone-number rules over a given libphonenumber-js metadata set. The metadata is a parameter so each Lambda
 * bundles only the set it needs: `min` (lengths: enough to normalise to E.164) for the token and incoming-call
 * paths, `max` (also number types: premium rate, shared cost, …) for the outgoing-call destination policy.
 */
import { parsePhoneNumberWithError, type CountryCode, type MetadataJson, type PhoneNumber } from 'libphonenumber-js/core';

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

export interface PhoneRules {
  /** Parses a number in any common human format; a national-format number is read in `defaultCountry`. */
  parse(input: string, defaultCountry?: CountryCode): PhoneNumber;
  /** E.164 of a possible number, else throws `PhoneNumberError`. */
  normalize(input: string, defaultCountry?: CountryCode): string;
  /** The ISO country of an E.164 number (undefined for non-geographic numbers or when unknown). */
  countryOf(e164: string): CountryCode | undefined;
}

export function createPhoneRules(metadata: MetadataJson): PhoneRules {
  const parse = (input: string, defaultCountry?: CountryCode): PhoneNumber => {
    if (typeof input !== 'string') throw new PhoneNumberError('A phone number must be a string');
    const trimmed = input.trim();
    if (trimmed === '' || trimmed.length > MAX_PHONE_INPUT_LENGTH || !PHONE_INPUT.test(trimmed)) {
      throw new PhoneNumberError('Not a phone number');
    }
    try {
      return parsePhoneNumberWithError(trimmed, defaultCountry ? { defaultCountry } : {}, metadata);
    } catch (err) {
      throw new PhoneNumberError(err instanceof Error ? err.message : 'Not a phone number');
    }
  };
  return {
    parse,
    normalize(input, defaultCountry) {
      const parsed = parse(input, defaultCountry);
      if (!parsed.isPossible()) throw new PhoneNumberError('Not a possible phone number');
      return parsed.number;
    },
    countryOf(e164) {
      try {
        return parse(e164).country;
      } catch {
        return undefined;
      }
    },
  };
}

/** A Twilio Client identity: letters, digits, `_`, `-`, `.`; 1..121 characters. */
export function isValidClientName(name: string): boolean {
  return typeof name === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,120}$/.test(name);
}
