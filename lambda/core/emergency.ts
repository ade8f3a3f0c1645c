/**
 * Emergency numbers. A Twilio browser client has no registered emergency address (Twilio Emergency Calling
 * needs one per number and is not set up here), so an emergency call from this phone could not be routed or
 * located: the softphone refuses them deliberately, saying so and telling the user to use another phone,
 * instead of failing as "not a valid number". The page checks before dialling; the outgoing-call handler
 * checks again for any other client.
 *
 * Sources: ITU-T E.161.1 (112 and 911 as harmonised emergency numbers, which mobile networks honour
 * everywhere); the national numbering plans for the countries this README suggests: Japan, MIC
 * (110 police, 118 coast guard, 119 fire and ambulance); United States and Canada, FCC (911); United Kingdom,
 * Ofcom (999 and 112).
 */
import type { CountryCode } from './phone-rules';

/** Honoured everywhere (ITU-T E.161.1; GSM phones dial them in any country). */
const UNIVERSAL = ['112', '911'];

/** Each country's own emergency short codes (the numbers a person there would dial). */
export const EMERGENCY_NUMBERS: Readonly<Partial<Record<CountryCode, readonly string[]>>> = {
  JP: ['110', '118', '119'],
  US: ['911'],
  CA: ['911'],
  GB: ['999', '112'],
  AU: ['000', '112'],
  NZ: ['111'],
  KR: ['112', '119'],
  CN: ['110', '119', '120', '122'],
  IN: ['100', '101', '102', '108', '112'],
  DE: ['110', '112'],
  FR: ['15', '17', '18', '112'],
};

/** What the softphone says (and shows) when someone dials an emergency number. */
export const EMERGENCY_REFUSAL = 'Emergency calls are not possible from this phone. Please hang up and call from a mobile phone or a landline.';

/**
 * True when the dialled text is an emergency number for a caller in `callerCountry` (or a universal one):
 * its digits alone (separators ignored), without a `+`.
 */
export function isEmergencyNumber(dialled: string, callerCountry?: CountryCode): boolean {
  if (typeof dialled !== 'string') return false;
  // NFKC: full-width digits and separators (`１１０`, typed on a Japanese keyboard) as their ASCII forms.
  const text = dialled.normalize('NFKC').trim();
  if (text.startsWith('+')) return false;
  const digits = text.replace(/[\s\-().\u00a0]/g, '');
  if (!/^\d{2,3}$/.test(digits)) return false;
  return UNIVERSAL.includes(digits) || (callerCountry !== undefined && (EMERGENCY_NUMBERS[callerCountry] ?? []).includes(digits));
}
