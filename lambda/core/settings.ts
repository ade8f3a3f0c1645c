/** Function configuration from the environment (see docs/architecture.md, "Lambda environment"). */

export interface AppConfig {
  /** TOKEN_TTL_SECONDS, default 3600, 60..86400. */
  tokenTtlSeconds: number;
  /** PUBLIC_BASE_URL, e.g. https://voice.example.com/prod (custom domains). */
  publicBaseUrl?: string;
  /** https on AWS; the local app sets http. */
  webhookScheme: 'https' | 'http';
  /** WEBHOOK_SIGNATURE_VALIDATION=off disables; on by default. */
  validateWebhookSignatures: boolean;
  /** ALLOWED_DESTINATION_COUNTRIES=JP,US; default (undefined): the caller's own number's country. */
  allowedDestinationCountries?: string[];
}

export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
export const MIN_TOKEN_TTL_SECONDS = 60;
export const MAX_TOKEN_TTL_SECONDS = 86400;

/** Reads the configuration; throws a clear Error on bad values (a misconfigured function must not start). */
export function loadConfig(env: NodeJS.ProcessEnv): AppConfig {
  const config: AppConfig = {
    tokenTtlSeconds: parseTtl(env.TOKEN_TTL_SECONDS),
    webhookScheme: parseScheme(env.WEBHOOK_SCHEME),
    validateWebhookSignatures: parseValidation(env.WEBHOOK_SIGNATURE_VALIDATION),
  };
  const base = env.PUBLIC_BASE_URL?.trim();
  if (base) config.publicBaseUrl = parseBaseUrl(base);
  const countries = env.ALLOWED_DESTINATION_COUNTRIES?.trim();
  if (countries) config.allowedDestinationCountries = parseCountries(countries);
  return config;
}

function parseTtl(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_TOKEN_TTL_SECONDS;
  const value = raw.trim();
  if (!/^\d+$/.test(value)) throw new Error(`TOKEN_TTL_SECONDS must be a whole number of seconds, got "${raw}"`);
  const n = Number(value);
  if (n < MIN_TOKEN_TTL_SECONDS || n > MAX_TOKEN_TTL_SECONDS) {
    throw new Error(`TOKEN_TTL_SECONDS must be between ${MIN_TOKEN_TTL_SECONDS} and ${MAX_TOKEN_TTL_SECONDS}, got ${n}`);
  }
  return n;
}

function parseScheme(raw: string | undefined): 'https' | 'http' {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === '' || value === 'https') return 'https';
  if (value === 'http') return 'http';
  throw new Error(`WEBHOOK_SCHEME must be "https" or "http", got "${raw}"`);
}

function parseValidation(raw: string | undefined): boolean {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === '' || value === 'on' || value === 'true' || value === '1') return true;
  if (value === 'off' || value === 'false' || value === '0') return false;
  throw new Error(`WEBHOOK_SIGNATURE_VALIDATION must be "on" or "off", got "${raw}"`);
}

function parseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`PUBLIC_BASE_URL must be an absolute URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`PUBLIC_BASE_URL must be an http(s) URL, got "${raw}"`);
  }
  if (url.search || url.hash) throw new Error(`PUBLIC_BASE_URL must not have a query or fragment, got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

function parseCountries(raw: string): string[] {
  const list = raw
    .split(',')
    .map((c) => c.trim().toUpperCase())
    .filter((c) => c !== '');
  for (const c of list) {
    if (!/^[A-Z]{2}$/.test(c)) throw new Error(`ALLOWED_DESTINATION_COUNTRIES must be ISO 3166-1 alpha-2 codes, got "${c}"`);
  }
  if (list.length === 0) throw new Error('ALLOWED_DESTINATION_COUNTRIES is set but empty');
  return [...new Set(list)];
}
