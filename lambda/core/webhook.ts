/**
 * Twilio webhook events as the API Gateway request template delivers them, the public URL Twilio signed,
 * and the X-Twilio-Signature check (HMAC-SHA1, `validateRequest` from the helper's deep path).
 */
import { validateRequest } from 'twilio/lib/webhooks/webhooks';
import type { AppConfig } from './settings';

export interface WebhookEvent {
  params: Record<string, string>;
  /** the query string's parameters, in the order the request template gave them */
  query: Record<string, string>;
  signature: string;
  domainName: string;
  path: string;
  resourcePath: string;
}

/**
 * The most parameters a webhook may carry. Twilio's own requests hold a few dozen (plus the softphone's custom
 * parameters); an event with more is not Twilio's, and is refused before its signature is computed over them.
 */
export const MAX_WEBHOOK_PARAMS = 1000;

/** Coerces an unknown Lambda event into a WebhookEvent; undefined when its shape is wrong or it is oversized. */
export function parseWebhookEvent(event: unknown): WebhookEvent | undefined {
  if (!isObject(event)) return undefined;
  const rawParams = event.params;
  if (!isObject(rawParams) || !atMost(rawParams, MAX_WEBHOOK_PARAMS)) return undefined;
  const params = stringMap(rawParams);
  const query = event.query === undefined ? {} : isObject(event.query) ? stringMap(event.query) : undefined;
  if (!params || !query) return undefined;
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    params,
    query,
    signature: str(event.signature),
    domainName: str(event.domainName),
    path: str(event.path),
    resourcePath: str(event.resourcePath),
  };
}

/** A map whose values are all strings (a null-prototype copy), else undefined. */
function stringMap(raw: Record<string, unknown>): Record<string, string> | undefined {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') return undefined;
    out[k] = v;
  }
  return out;
}

/**
 * The URL Twilio requested (and signed), without its query string: `PUBLIC_BASE_URL + resourcePath` when
 * configured (custom domains), else `<scheme>://<domainName><path>`.
 */
export function publicWebhookUrl(
  event: Pick<WebhookEvent, 'domainName' | 'path' | 'resourcePath'>,
  config: Pick<AppConfig, 'publicBaseUrl' | 'webhookScheme'>,
): string {
  if (config.publicBaseUrl) return config.publicBaseUrl.replace(/\/+$/, '') + event.resourcePath;
  return `${config.webhookScheme}://${event.domainName}${event.path}`;
}

/**
 * The base URL the API was called at (`https://<api>/prod`, or PUBLIC_BASE_URL): where the URLs a webhook hands
 * back to Twilio (a `<Dial action>`, a recording callback) point, so Twilio calls them at the same host it signs.
 */
export function apiBaseUrl(
  event: Pick<WebhookEvent, 'domainName' | 'path' | 'resourcePath'>,
  config: Pick<AppConfig, 'publicBaseUrl' | 'webhookScheme'>,
): string {
  if (config.publicBaseUrl) return config.publicBaseUrl.replace(/\/+$/, '');
  const stagePath = event.path.endsWith(event.resourcePath) ? event.path.slice(0, event.path.length - event.resourcePath.length) : '';
  return `${config.webhookScheme}://${event.domainName}${stagePath}`;
}

/** `base + path`, with a query string when given (`URLSearchParams` encoding: what Twilio will call and sign). */
export function webhookUrl(base: string, path: string, query: Record<string, string> = {}): string {
  const search = new URLSearchParams(query).toString();
  return `${base}${path}${search ? `?${search}` : ''}`;
}

/** Query strings longer than this are not permuted: 4 parameters give 24 orders × 2 encodings to try. */
export const MAX_PERMUTED_QUERY_PARAMS = 4;

/**
 * The URLs Twilio may have signed for this request: Twilio signs the URL it calls, query string included
 * (a webhook configured as `…/call_incoming?line=sales`). API Gateway hands the template the query's
 * parameters decoded and keyed by name, so neither their order nor their exact encoding survives. The
 * candidates are every order of up to {@link MAX_PERMUTED_QUERY_PARAMS} parameters, each encoded both as
 * URLSearchParams does (`+` for space) and as `encodeURIComponent` does with RFC 3986 sub-delimiters left
 * bare; beyond that only the given and sorted orders. Without a query there is one URL.
 */
export function signedUrlCandidates(
  event: Pick<WebhookEvent, 'domainName' | 'path' | 'resourcePath' | 'query'>,
  config: Pick<AppConfig, 'publicBaseUrl' | 'webhookScheme'>,
): string[] {
  const base = publicWebhookUrl(event, config);
  const entries = Object.entries(event.query);
  if (entries.length === 0) return [base];
  const orders =
    entries.length <= MAX_PERMUTED_QUERY_PARAMS ? permutations(entries) : [entries, [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))];
  const urls = new Set<string>();
  for (const order of orders) {
    urls.add(`${base}?${new URLSearchParams(order).toString()}`);
    urls.add(`${base}?${order.map(([k, v]) => `${urlQueryEncode(k)}=${urlQueryEncode(v)}`).join('&')}`);
  }
  return [...urls];
}

/** `encodeURIComponent`, leaving bare the characters RFC 3986 allows in a query (as browsers and consoles type them). */
function urlQueryEncode(value: string): string {
  return encodeURIComponent(value).replace(/%(2F|3A|40|21|24|27|28|29|2A|2C|3B|3F)/gi, (escaped) => decodeURIComponent(escaped));
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) => permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]));
}

/** True when the signature is present and valid for the URL and parameters. Never throws. */
export function isValidTwilioSignature(authToken: string, signature: string, url: string, params: Record<string, string>): boolean {
  if (!signature || !authToken || !url) return false;
  try {
    return validateRequest(authToken, signature, url, { ...params });
  } catch {
    return false;
  }
}

/** True when the object has at most `limit` own keys (stops counting there). */
function atMost(object: Record<string, unknown>, limit: number): boolean {
  let count = 0;
  for (const key in object) {
    if (Object.hasOwn(object, key) && ++count > limit) return false;
  }
  return true;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
