/**
 * The token the softphone (`@twilio/voice-sdk` 2.x) needs: a Twilio Access Token with a VoiceGrant, signed with
 * an API key (HS256). Signed with jws, the JWS layer under jsonwebtoken, instead of Twilio's `AccessToken`, which pulls
 * in jsonwebtoken with lodash and semver (~50 KB, 8-20 ms of cold init). jws signs with node:crypto's HMAC on the
 * calling thread; jose, measured in its place, signs through WebCrypto, which Node.js runs on libuv's thread pool
 * (a wait of 0.3-1.1 ms at p99 per token on a quiet machine, docs/performance.md). The token is byte for byte the one
 * Twilio's `AccessToken` (twilio 6.2.0, through jsonwebtoken 9 and this jws) makes for the same second:
 * test/lambda/access-token-equality.test.ts proves it.
 */
import { sign } from 'jws';
import type { TwilioCredentials } from '../ports';
import { TOKEN_TTL_SECONDS } from './settings';

export interface AccessTokenResult {
  token: string;
  expiresAt: Date;
}

/** What the token's VoiceGrant allows: which TwiML App its outgoing calls reach, and whether calls may ring it. */
export interface VoiceGrantOptions {
  outgoingApplicationSid: string;
  incomingAllow: boolean;
}

/** The softphone's grant: its TwiML App for outgoing calls, and incoming calls allowed. */
export function softphoneGrant(creds: Pick<TwilioCredentials, 'twimlAppSid'>): VoiceGrantOptions {
  return { outgoingApplicationSid: creds.twimlAppSid, incomingAllow: true };
}

/**
 * A "Test my setup" token (`Device.runPreflight`): the shortest lifetime the settings allow (the test takes
 * about 20 seconds), outgoing calls to the preflight TwiML App only, and no incoming calls.
 */
export const PREFLIGHT_TOKEN_TTL_SECONDS = TOKEN_TTL_SECONDS.min;

/** The preflight token's grant; undefined when the credentials name no preflight TwiML App (not configured). */
export function preflightGrant(creds: Pick<TwilioCredentials, 'preflightTwimlAppSid'>): VoiceGrantOptions | undefined {
  return creds.preflightTwimlAppSid ? { outgoingApplicationSid: creds.preflightTwimlAppSid, incomingAllow: false } : undefined;
}

/**
 * The header as jsonwebtoken writes it for Twilio: its own `{alg, typ}` (`kid` undefined, so not serialised),
 * then Twilio's `{cty, typ}` assigned over it. Key order is part of the bytes.
 */
const HEADER = { alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' } as const;

/** A token for `identity` valid `ttlSeconds` from `now`; by default the softphone's grant (its TwiML App, incoming calls allowed). */
export function createVoiceAccessToken(
  creds: Pick<TwilioCredentials, 'accountSid' | 'apiKeySid' | 'apiKeySecret' | 'twimlAppSid'>,
  identity: string,
  ttlSeconds: number,
  now: Date = new Date(),
  grant: VoiceGrantOptions = softphoneGrant(creds),
): AccessTokenResult {
  // Twilio's AccessToken refuses these; jsonwebtoken wants an integer expiresIn (Twilio turns 0 into 3600: refused here).
  if (!creds.accountSid || !creds.apiKeySid || !creds.apiKeySecret) throw new Error('accountSid, apiKeySid and apiKeySecret are required');
  if (!identity) throw new Error('identity is required');
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`ttlSeconds must be a positive integer, got ${ttlSeconds}`);
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + ttlSeconds;
  // VoiceGrant.toPayload: each part only when set, in this order.
  const voice: { incoming?: { allow: true }; outgoing?: { application_sid: string } } = {};
  if (grant.incomingAllow === true) voice.incoming = { allow: true };
  if (grant.outgoingApplicationSid) voice.outgoing = { application_sid: grant.outgoingApplicationSid };
  // Claims in jsonwebtoken's order: Twilio's {jti, grants}, then iat, exp, then the options' iss, sub.
  const claims = { jti: `${creds.apiKeySid}-${iat}`, grants: { identity, voice }, iat, exp, iss: creds.apiKeySid, sub: creds.accountSid };
  const token = sign({ header: HEADER, payload: claims, secret: creds.apiKeySecret, encoding: 'utf8' });
  return { token, expiresAt: new Date(exp * 1000) };
}
