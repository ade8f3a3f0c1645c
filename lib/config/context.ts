import type { TwilioSoftphoneStackProps } from '../softphone-stack';

/** The stack's context keys, documented in `bin/twilio-softphone.ts`. */
export const CONTEXT_KEYS = [
  'stackName',
  'allowedOrigin',
  'twilioSecretName',
  'tokenTtlSeconds',
  'allowedDestinationCountries',
  'publicBaseUrl',
  'throttleRateLimit',
  'throttleBurstLimit',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

export const DEFAULT_STACK_NAME = 'TwilioSoftphoneStack';
export const DEFAULT_THROTTLE = { rateLimit: 10, burstLimit: 20 } as const;

/**
 * Reads and checks the context keys; throws a clear Error on a bad value, so `cdk synth` stops before
 * producing a stack that would fail at deploy time or at run time.
 */
export function stackPropsFromContext(get: (key: ContextKey) => unknown): TwilioSoftphoneStackProps & { stackName: string } {
  const str = (key: ContextKey): string | undefined => {
    const value = get(key);
    if (value === undefined || value === null || value === '') return undefined;
    return String(value).trim() || undefined;
  };
  const num = (key: ContextKey, min: number, max: number): number | undefined => {
    const raw = str(key);
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new Error(`Context ${key} must be a whole number between ${min} and ${max}, got "${raw}"`);
    }
    return Number(raw);
  };

  const stackName = str('stackName') ?? DEFAULT_STACK_NAME;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) throw new Error(`Context stackName is not a valid stack name: "${stackName}"`);

  const allowedOrigin = str('allowedOrigin');
  // An origin is scheme://host[:port]; it goes into single-quoted API Gateway header mappings, so nothing else.
  if (allowedOrigin !== undefined && allowedOrigin !== '*' && !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(allowedOrigin)) {
    throw new Error(`Context allowedOrigin must be "*" or an origin like https://phone.example.com (no path), got "${allowedOrigin}"`);
  }

  const publicBaseUrl = str('publicBaseUrl')?.replace(/\/+$/, '');
  if (publicBaseUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(publicBaseUrl);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'https:' || url.search || url.hash) {
      throw new Error(`Context publicBaseUrl must be an https URL without query or fragment, got "${publicBaseUrl}"`);
    }
  }

  const countriesRaw = get('allowedDestinationCountries');
  let allowedDestinationCountries: string[] | undefined;
  if (countriesRaw !== undefined && countriesRaw !== null && countriesRaw !== '') {
    const list = (Array.isArray(countriesRaw) ? countriesRaw.map(String) : String(countriesRaw).split(','))
      .map((c) => c.trim().toUpperCase())
      .filter((c) => c !== '');
    const bad = list.find((c) => !/^[A-Z]{2}$/.test(c));
    if (bad !== undefined || list.length === 0) {
      throw new Error(`Context allowedDestinationCountries must be ISO 3166-1 alpha-2 codes like JP,US, got "${String(countriesRaw)}"`);
    }
    allowedDestinationCountries = [...new Set(list)];
  }

  const rateLimit = num('throttleRateLimit', 1, 10000) ?? DEFAULT_THROTTLE.rateLimit;
  const burstLimit = num('throttleBurstLimit', 1, 5000) ?? DEFAULT_THROTTLE.burstLimit;

  return {
    stackName,
    allowedOrigin,
    twilioSecretName: str('twilioSecretName'),
    functionSettings: {
      tokenTtlSeconds: num('tokenTtlSeconds', 60, 86400),
      publicBaseUrl,
      allowedDestinationCountries,
    },
    throttle: { rateLimit, burstLimit },
  };
}
