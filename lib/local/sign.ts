/**
 * The `X-Twilio-Signature` Twilio would send for a form body posted to a URL (the signer behind
 * `npm run sign`, also used by the tests): HMAC-SHA1 of the URL plus the sorted decoded parameters, keyed by
 * the account Auth Token — computed by the Twilio helper library itself (deep import, no root `twilio`).
 */
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';

/**
 * Decodes `application/x-www-form-urlencoded` the way the API's request template does (pairs split on `&`,
 * a pair split at its first `=`, `+` and `%XX` decoded as UTF-8, empty values kept, the last repeat wins).
 */
export function parseFormBody(body: string): Record<string, string> {
  const params: Record<string, string> = {};
  const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) params[decode(pair)] = '';
    else params[decode(pair.slice(0, eq))] = decode(pair.slice(eq + 1));
  }
  return params;
}

/** The signature for `formBody` (raw, URL-encoded) posted to `url`. */
export function signWebhook(authToken: string, url: string, formBody: string): string {
  return getExpectedTwilioSignature(authToken, url, parseFormBody(formBody));
}
