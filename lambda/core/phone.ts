/**
 * Normalisation of phone numbers to E.164 with libphonenumber-js's small `min` metadata (lengths per country):
 * what the token and incoming-call paths and the device registry need. Number types (premium rate, …) are the
 * destination policy's business (`destination-policy.ts`, `max` metadata), so only that Lambda carries them.
 */
import minMetadata from 'libphonenumber-js/min/metadata';
import { createPhoneRules, type CountryCode } from './phone-rules';

export { isValidClientName, MAX_PHONE_INPUT_LENGTH, PhoneNumberError, type CountryCode } from './phone-rules';

const rules = createPhoneRules(minMetadata);

/**
 * Normalises a number in any common human format (hyphens, spaces, parentheses, E.164) to E.164.
 * A national-format number is read in `defaultCountry`. Throws `PhoneNumberError` when it cannot be parsed.
 */
export function normalizePhoneNumber(input: string, defaultCountry?: CountryCode): string {
  return rules.normalize(input, defaultCountry);
}

/** The ISO country of an E.164 number (undefined for non-geographic numbers or when unknown). */
export function countryOfNumber(e164: string): CountryCode | undefined {
  return rules.countryOf(e164);
}
