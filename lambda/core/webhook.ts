/**
 * Twilio webhook events as the API Gateway request template delivers them, the public URL Twilio signed,
 * and the X-Twilio-Signature check (HMAC-SHA1, `validateRequest` from the helper's deep path).
 */
import { validateRequest } from 'twilio/lib/webhooks/webhooks';
import type { AppConfig } from './settings';

export interface WebhookEvent {
  params: Record<string, string>;
  signature: string;
  domainName: string;
  path: string;
  resourcePath: string;
}

/** Coerces an unknown Lambda event into a WebhookEvent; undefined when its shape is wrong. */
export function parseWebhookEvent(event: unknown): WebhookEvent | undefined {
  if (!isObject(event)) return undefined;
  const rawParams = event.params;
  if (!isObject(rawParams)) return undefined;
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(rawParams)) {
    if (typeof v !== 'string') return undefined;
    params[k] = v;
  }
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    params,
    signature: str(event.signature),
    domainName: str(event.domainName),
    path: str(event.path),
    resourcePath: str(event.resourcePath),
  };
}

/**
 * The URL Twilio requested (and signed): `PUBLIC_BASE_URL + resourcePath` when configured (custom domains),
 * else `<scheme>://<domainName><path>`.
 */
export function publicWebhookUrl(
  event: Pick<WebhookEvent, 'domainName' | 'path' | 'resourcePath'>,
  config: Pick<AppConfig, 'publicBaseUrl' | 'webhookScheme'>,
): string {
  if (config.publicBaseUrl) return config.publicBaseUrl.replace(/\/+$/, '') + event.resourcePath;
  return `${config.webhookScheme}://${event.domainName}${event.path}`;
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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
