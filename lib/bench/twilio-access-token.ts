/**
 * The Access Token signed by Twilio's `AccessToken` (through jsonwebtoken), as lambda/core/access-token.ts did
 * before it signed with jws: the alternative the benchmark measures that choice against (what-if.ts,
 * `twilioAccessToken`). Bench only. The tokens are byte-identical (test/lambda/access-token-equality.test.ts).
 */
import AccessToken from 'twilio/lib/jwt/AccessToken';
import { type createVoiceAccessToken as signedWithJws, softphoneGrant } from '../../lambda/core/access-token';

export { PREFLIGHT_TOKEN_TTL_SECONDS, preflightGrant } from '../../lambda/core/access-token';

/** A drop-in for the real one: its type is the real one's, so the two signatures cannot drift apart. */
export const createVoiceAccessToken: typeof signedWithJws = (creds, identity, ttlSeconds, now = new Date(), grant = softphoneGrant(creds)) => {
  const token = new AccessToken(creds.accountSid, creds.apiKeySid, creds.apiKeySecret, { identity, ttl: ttlSeconds });
  token.addGrant(new AccessToken.VoiceGrant({ incomingAllow: grant.incomingAllow, outgoingApplicationSid: grant.outgoingApplicationSid }));
  // AccessToken reads the clock itself; `now` only stands in for an exp it did not write.
  const jwt = token.toJwt();
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as { exp?: number };
  const exp = typeof payload.exp === 'number' ? payload.exp : Math.floor(now.getTime() / 1000) + ttlSeconds;
  return { token: jwt, expiresAt: new Date(exp * 1000) };
};
