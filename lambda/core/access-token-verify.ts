/**
 * Verifies a Twilio Access Token the softphone already holds, for the page's own API (the API Gateway
 * authorizer): no new secret to manage. The token is a JWT (HS256) signed with the account's API key secret
 * (access-token.ts makes it as Twilio's helper does): header `{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`,
 * claims `jti`, `iss` = the API key SID, `sub` = the account SID, `iat`, `exp`, and `grants.identity`.
 *
 * Checked: the signature (constant-time, HS256 only — an `alg` of `none` or anything else is refused), the
 * issuer and subject against the credentials in use, expiry (with a small clock skew) and the identity's form.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TwilioCredentials } from '../ports';
import { isValidClientName } from './phone-rules';

/** Seconds of clock difference tolerated on `exp` and `iat`. */
export const CLOCK_SKEW_SECONDS = 60;

export type TokenVerdict = { ok: true; identity: string; expiresAt: number } | { ok: false; reason: string };

function base64UrlJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function verifyAccessToken(
  token: string,
  creds: Pick<TwilioCredentials, 'accountSid' | 'apiKeySid' | 'apiKeySecret'>,
  nowSeconds: number,
): TokenVerdict {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return { ok: false, reason: 'not a JWT' };
  const [headerPart, payloadPart, signaturePart] = parts;
  const header = base64UrlJson(headerPart);
  if (header?.alg !== 'HS256') return { ok: false, reason: 'not signed with HS256' };
  const expected = createHmac('sha256', creds.apiKeySecret).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  const claims = base64UrlJson(payloadPart);
  if (!claims) return { ok: false, reason: 'unreadable claims' };
  if (claims.iss !== creds.apiKeySid || claims.sub !== creds.accountSid) return { ok: false, reason: 'issued for another key or account' };
  const exp = claims.exp;
  if (typeof exp !== 'number' || exp + CLOCK_SKEW_SECONDS <= nowSeconds) return { ok: false, reason: 'expired' };
  if (typeof claims.iat === 'number' && claims.iat - CLOCK_SKEW_SECONDS > nowSeconds) return { ok: false, reason: 'issued in the future' };
  const grants = claims.grants as { identity?: unknown } | undefined;
  const identity = grants?.identity;
  if (typeof identity !== 'string' || !isValidClientName(identity)) return { ok: false, reason: 'no valid identity' };
  return { ok: true, identity, expiresAt: exp };
}
