/**
 * The toll-fraud policy for outgoing calls, on libphonenumber-js's `max` metadata, which knows number types.
 * Only the outgoing-call and call-action Lambdas import this module (and so carry the larger metadata): the
 * incoming-call function never forwards (lambda/core/call-flow.ts).
 */
import maxMetadata from 'libphonenumber-js/max/metadata';
import type { NumberType } from 'libphonenumber-js/core';
import { isEmergencyNumber } from './emergency';
import { createPhoneRules, type CountryCode } from './phone-rules';
import { specialRateRange } from './special-rates';

/** Phone rules with full metadata, for the outgoing-call path (normalising the same way as `phone.ts`). */
export const phoneRulesWithTypes = createPhoneRules(maxMetadata);

export type DestinationRefusal =
  | 'emergency'
  | 'unparsable'
  | 'invalid'
  | 'premium-rate'
  | 'shared-cost'
  | 'special-rate'
  | 'number-type'
  | 'country-not-allowed';

export type DestinationDecision = { ok: true; e164: string; country: CountryCode } | { ok: false; reason: DestinationRefusal; country?: CountryCode };

/**
 * The number types a softphone may call: an allow-list, so a type that toll fraud favours and this list does
 * not name (personal numbers such as UK 070, pagers, voicemail access, or a number whose type the metadata
 * cannot tell) is refused. VOIP stays allowed (Japan's 050 numbers, the walkthrough's own, are VOIP), and so
 * do UANs (e.g. UK 03, charged as geographic calls).
 */
export const ALLOWED_NUMBER_TYPES: readonly NumberType[] = ['FIXED_LINE', 'MOBILE', 'FIXED_LINE_OR_MOBILE', 'TOLL_FREE', 'VOIP', 'UAN'];

/**
 * The toll-fraud policy for an outgoing call's destination: not an emergency number (refused deliberately,
 * see emergency.ts); the number must parse (national format read in `callerCountry`), be valid, be of an
 * allowed type (premium-rate and shared-cost numbers get their own reasons), lie in no special-rate range of
 * its country (special-rates.ts), and be in one of `allowedCountries` (default: the caller's own country).
 */
export function checkDestination(input: string, callerCountry: CountryCode | undefined, allowedCountries?: readonly string[]): DestinationDecision {
  if (isEmergencyNumber(input, callerCountry)) return { ok: false, reason: 'emergency' };
  let parsed: ReturnType<typeof phoneRulesWithTypes.parse>;
  try {
    parsed = phoneRulesWithTypes.parse(input, callerCountry);
  } catch {
    return { ok: false, reason: 'unparsable' };
  }
  if (!parsed.isValid()) return { ok: false, reason: 'invalid' };
  const type = parsed.getType();
  if (type === 'PREMIUM_RATE') return { ok: false, reason: 'premium-rate' };
  if (type === 'SHARED_COST') return { ok: false, reason: 'shared-cost' };
  if (!type || !ALLOWED_NUMBER_TYPES.includes(type)) return { ok: false, reason: 'number-type' };
  const country = parsed.country;
  if (country && specialRateRange(country, parsed.nationalNumber)) return { ok: false, reason: 'special-rate', country };
  const allowed = allowedCountries ?? (callerCountry ? [callerCountry] : []);
  if (!country || !allowed.includes(country)) return { ok: false, reason: 'country-not-allowed', ...(country ? { country } : {}) };
  return { ok: true, e164: parsed.number, country };
}
