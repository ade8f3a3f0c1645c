/**
 * The toll-fraud policy for outgoing calls, on libphonenumber-js's `max` metadata, which knows number types.
 * Only the outgoing-call Lambda imports this module (and so carries the larger metadata).
 */
import maxMetadata from 'libphonenumber-js/max/metadata';
import type { NumberType } from 'libphonenumber-js/core';
import { createPhoneRules, type CountryCode } from './phone-rules';

/** Phone rules with full metadata, for the outgoing-call path (normalising the same way as `phone.ts`). */
export const phoneRulesWithTypes = createPhoneRules(maxMetadata);

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
    parsed = phoneRulesWithTypes.parse(input, callerCountry);
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
