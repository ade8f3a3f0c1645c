/**
 * The token the softphone (`@twilio/voice-sdk` 2.x) needs: a Twilio Access Token with a VoiceGrant,
 * signed with an API key. Deep import: the root `twilio` module costs megabytes of cold start.
 */
import AccessToken from 'twilio/lib/jwt/AccessToken';
import type { TwilioCredentials } from '../ports';

export interface AccessTokenResult {
  token: string;
  expiresAt: Date;
}

export function createVoiceAccessToken(
  creds: Pick<TwilioCredentials, 'accountSid' | 'apiKeySid' | 'apiKeySecret' | 'twimlAppSid'>,
  identity: string,
  ttlSeconds: number,
  now: Date = new Date(),
): AccessTokenResult {
  const nbf = Math.floor(now.getTime() / 1000);
  const token = new AccessToken(creds.accountSid, creds.apiKeySid, creds.apiKeySecret, {
    identity,
    ttl: ttlSeconds,
  });
  token.addGrant(new AccessToken.VoiceGrant({ incomingAllow: true, outgoingApplicationSid: creds.twimlAppSid }));
  // AccessToken reads the clock itself (iat = now); nbf is not set. expiresAt mirrors its exp.
  const jwt = token.toJwt();
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as { exp?: number };
  const exp = typeof payload.exp === 'number' ? payload.exp : nbf + ttlSeconds;
  return { token: jwt, expiresAt: new Date(exp * 1000) };
}
