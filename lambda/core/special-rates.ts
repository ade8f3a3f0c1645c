/**
 * Special-rate ranges: numbers whose caller pays more than an ordinary call, whatever type libphonenumber
 * gives them. Number types alone are not enough: Japan's 0570 "Navi Dial" is typed UAN (a type that is
 * otherwise charged like a geographic call) yet the caller pays the service's rate. The destination policy
 * refuses every range here, for each country it allows.
 *
 * ONE reviewed table, each range with the numbering plan that defines it. Ranges are prefixes of the
 * national significant number (E.164 without `+` and the country code), or a pattern where the range sits
 * inside the number (US 976 exchanges). Review this table when allowing a new country.
 */
import type { CountryCode } from './phone-rules';

export interface SpecialRateRange {
  country: CountryCode;
  /** matched against the national significant number */
  pattern: RegExp;
  /** as the numbering plan names it */
  description: string;
}

/** The numbering plan behind each country's ranges. */
export const SPECIAL_RATE_SOURCES: Readonly<Partial<Record<CountryCode, string>>> = {
  JP: 'Ministry of Internal Affairs and Communications (MIC), Telecommunications Numbering Plan (電気通信番号計画): 0570, 0180, 0990',
  US: 'North American Numbering Plan Administrator (NANPA): NPA 900 (premium services), NXX 976 (information services)',
  CA: 'North American Numbering Plan Administrator (NANPA): NPA 900 (premium services), NXX 976 (information services)',
  GB: 'Ofcom, National Telephone Numbering Plan: 09 (premium rate), 084 and 087 (service charge), 055 (corporate numbering), 070 (personal numbering), 076 (radiopaging)',
};

export const SPECIAL_RATE_RANGES: readonly SpecialRateRange[] = [
  { country: 'JP', pattern: /^570/, description: 'Navi Dial (0570): the caller pays the rate the service sets' },
  { country: 'JP', pattern: /^180/, description: 'tele-voting and information services (0180), charged to the caller' },
  { country: 'JP', pattern: /^990/, description: 'premium information services (0990)' },
  { country: 'US', pattern: /^900/, description: 'premium services (900)' },
  { country: 'US', pattern: /^\d{3}976/, description: 'information services on a 976 exchange (NXX 976)' },
  { country: 'CA', pattern: /^900/, description: 'premium services (900)' },
  { country: 'CA', pattern: /^\d{3}976/, description: 'information services on a 976 exchange (NXX 976)' },
  { country: 'GB', pattern: /^9/, description: 'premium rate services (09)' },
  { country: 'GB', pattern: /^8[47]/, description: 'service-charge numbers (084, 087)' },
  { country: 'GB', pattern: /^55/, description: 'corporate numbering (055), charged above a geographic call' },
  { country: 'GB', pattern: /^70/, description: 'personal numbering (070)' },
  { country: 'GB', pattern: /^76/, description: 'radiopaging (076)' },
];

/** The special-rate range an E.164 number of `country` falls in, if any. */
export function specialRateRange(country: CountryCode, nationalNumber: string): SpecialRateRange | undefined {
  return SPECIAL_RATE_RANGES.find((r) => r.country === country && r.pattern.test(nationalNumber));
}
