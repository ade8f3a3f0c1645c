/**
 * The token the softphone (`@twilio/voice-sdk` 2.x) needs: a Twilio Access Token with a VoiceGrant,
 * signed with an API key. Deep import: the root `twilio` module costs megabytes of cold start.
 */
import AccessToken from 'twilio/lib/jwt/AccessToken';
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

/**
 * A "Test my setup" token (`Device.runPreflight`): the shortest lifetime the settings allow (the test takes
 * about 20 seconds), outgoing calls to the preflight TwiML App only, and no incoming calls.
 */
export const PREFLIGHT_TOKEN_TTL_SECONDS = TOKEN_TTL_SECONDS.min;

/** The preflight token's grant; undefined when the credentials name no preflight TwiML App (not configured). */
export function preflightGrant(creds: Pick<TwilioCredentials, 'preflightTwimlAppSid'>): VoiceGrantOptions | undefined {
  return creds.preflightTwimlAppSid ? { outgoingApplicationSid: creds.preflightTwimlAppSid, incomingAllow: false } : undefined;
}

/** A token for `identity` valid `ttlSeconds`; by default the softphone's grant (its TwiML App, incoming calls allowed). */
export function createVoiceAccessToken(
  creds: Pick<TwilioCredentials, 'accountSid' | 'apiKeySid' | 'apiKeySecret' | 'twimlAppSid'>,
  identity: string,
  ttlSeconds: number,
  now: Date = new Date(),
  grant: VoiceGrantOptions = { outgoingApplicationSid: creds.twimlAppSid, incomingAllow: true },
): AccessTokenResult {
  const nbf = Math.floor(now.getTime() / 1000);
  const token = new AccessToken(creds.accountSid, creds.apiKeySid, creds.apiKeySecret, {
    identity,
    ttl: ttlSeconds,
  });
  token.addGrant(new AccessToken.VoiceGrant({ incomingAllow: grant.incomingAllow, outgoingApplicationSid: grant.outgoingApplicationSid }));
  // AccessToken reads the clock itself (iat = now); nbf is not set. expiresAt mirrors its exp.
  const jwt = token.toJwt();
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as { exp?: number };
  const exp = typeof payload.exp === 'number' ? payload.exp : nbf + ttlSeconds;
  return { token: jwt, expiresAt: new Date(exp * 1000) };
}
