/**
 * The page API's authentication, unit by unit (issue 14: "an API Gateway Lambda authorizer that verifies the
 * Twilio Access Token the page already holds (HS256 with the API key secret, expiry, identity)"):
 * - `verifyAccessToken` (lambda/core/access-token-verify.ts) against tokens made by the token route's helper
 *   (lambda/core/access-token.ts, byte-identical to Twilio's) and by jsonwebtoken, and against tampered ones;
 * - the authorizer handler (lambda/handlers/page-authorizer.ts): its policy, `Unauthorized`, a rotated key;
 * - `authorizeToken` (lib/local/api-gateway.ts), API Gateway's TOKEN authorizer rules as the local app plays
 *   them: no or malformed header → 401 without invoking, `Unauthorized` → 401, other errors → 500, a policy
 *   that does not allow the method (Deny, another resource, another action) → 403.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { createVoiceAccessToken } from '../../lambda/core/access-token';
import { CLOCK_SKEW_SECONDS, verifyAccessToken } from '../../lambda/core/access-token-verify';
import type { LambdaOutcome } from '../../lib/api/gateway';
import { loadConfig } from '../../lambda/core/settings';
import type { Handler, HandlerDeps } from '../../lambda/handlers/deps';
import { createPageAuthorizerHandler, pageRoutesArn, UNAUTHORIZED } from '../../lambda/handlers/page-authorizer';
import { CredentialsError, type CredentialsProvider, type TwilioCredentials } from '../../lambda/ports';
import { PAGE_AUTHORIZER } from '../../lib/api/routes';
import { authorizeToken } from '../../lib/local/api-gateway';
import { TEST_CREDENTIALS } from '../support/fixtures';
import { NO_METRICS } from '../../lambda/adapters/recording-metrics';
import { KeptLog } from '../support/lines';

const CREDS = TEST_CREDENTIALS;
const NOW = Math.floor(Date.now() / 1000);

function parts(token: string): { header: Record<string, unknown>; claims: Record<string, unknown>; signature: string } {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>,
    signature: s,
  };
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT with this header and these claims, signed (HMAC) with `secret`. */
function sign(header: unknown, claims: unknown, secret = CREDS.apiKeySecret, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

const HEADER = { alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' };

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jti: `${CREDS.apiKeySid}-${NOW}`,
    grants: { identity: 'alice', voice: { incoming: { allow: true }, outgoing: { application_sid: CREDS.twimlAppSid } } },
    iat: NOW,
    exp: NOW + 3600,
    iss: CREDS.apiKeySid,
    sub: CREDS.accountSid,
    ...overrides,
  };
}

describe('verifyAccessToken', () => {
  test('a token from the token route’s helper is valid: its identity and expiry', async () => {
    const { token, expiresAt } = createVoiceAccessToken(CREDS, 'DeviceId_0001', 600);
    const verdict = verifyAccessToken(token, CREDS, NOW);
    expect(verdict).toEqual({ ok: true, identity: 'DeviceId_0001', expiresAt: expiresAt.getTime() / 1000 });
  });

  test('a token made by another JWT library with the same claims is valid too; ours is valid to it', async () => {
    const other = jwt.sign(claims(), CREDS.apiKeySecret, {
      algorithm: 'HS256',
      header: { alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' } as jwt.JwtHeader,
    });
    expect(verifyAccessToken(other, CREDS, NOW)).toMatchObject({ ok: true, identity: 'alice' });
    const { token } = createVoiceAccessToken(CREDS, 'bob', 600);
    expect(jwt.verify(token, CREDS.apiKeySecret, { algorithms: ['HS256'], issuer: CREDS.apiKeySid, subject: CREDS.accountSid })).toMatchObject({
      grants: { identity: 'bob' },
    });
  });

  test('property: any valid identity and lifetime round-trips; changing any one character of the signature is refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}$/),
        fc.integer({ min: 60, max: 86400 }),
        fc.nat(),
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
        async (identity, ttl, position, replacement) => {
          const { token } = createVoiceAccessToken(CREDS, identity, ttl);
          expect(verifyAccessToken(token, CREDS, NOW)).toMatchObject({ ok: true, identity });
          const [h, p, s] = token.split('.');
          const i = position % (s.length - 1); // the last character carries padding bits only in part
          if (s[i] === replacement) return;
          const tampered = `${h}.${p}.${s.slice(0, i)}${replacement}${s.slice(i + 1)}`;
          expect(verifyAccessToken(tampered, CREDS, NOW)).toEqual({ ok: false, reason: 'bad signature' });
        },
      ),
      { numRuns: 200 },
    );
  });

  test('alg none is refused, with an empty or a copied signature', async () => {
    const { token } = createVoiceAccessToken(CREDS, 'alice', 600);
    const { claims: c, signature } = parts(token);
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(c)}.`;
    expect(verifyAccessToken(none, CREDS, NOW)).toEqual({ ok: false, reason: 'not a JWT' });
    expect(verifyAccessToken(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(c)}.${signature}`, CREDS, NOW)).toEqual({
      ok: false,
      reason: 'not signed with HS256',
    });
    expect(verifyAccessToken(`${b64({ typ: 'JWT' })}.${b64(c)}.${signature}`, CREDS, NOW)).toEqual({ ok: false, reason: 'not signed with HS256' });
  });

  test('another algorithm, even correctly signed with the same secret, is refused (HS512, hs256)', () => {
    expect(verifyAccessToken(sign({ ...HEADER, alg: 'HS512' }, claims(), CREDS.apiKeySecret, 'sha512'), CREDS, NOW)).toEqual({
      ok: false,
      reason: 'not signed with HS256',
    });
    expect(verifyAccessToken(sign({ ...HEADER, alg: 'hs256' }, claims()), CREDS, NOW)).toEqual({ ok: false, reason: 'not signed with HS256' });
  });

  test('a signature by another secret, or claims changed after signing, is refused', async () => {
    const other = createVoiceAccessToken({ ...CREDS, apiKeySecret: 'another-api-key-secret' }, 'alice', 600).token;
    expect(verifyAccessToken(other, CREDS, NOW)).toEqual({ ok: false, reason: 'bad signature' });
    const { token } = createVoiceAccessToken(CREDS, 'alice', 600);
    const [h, p, s] = token.split('.');
    const promoted = `${h}.${b64({ ...parts(token).claims, grants: { identity: 'admin' } })}.${s}`;
    expect(verifyAccessToken(promoted, CREDS, NOW)).toEqual({ ok: false, reason: 'bad signature' });
    // a truncated signature is refused without throwing
    expect(verifyAccessToken(`${h}.${p}.${s.slice(0, 10)}`, CREDS, NOW)).toEqual({ ok: false, reason: 'bad signature' });
  });

  test('a token for another API key (iss) or another account (sub) is refused even when the signature is good', () => {
    expect(verifyAccessToken(sign(HEADER, claims({ iss: 'SKffffffffffffffffffffffffffffffff' })), CREDS, NOW)).toEqual({
      ok: false,
      reason: 'issued for another key or account',
    });
    expect(verifyAccessToken(sign(HEADER, claims({ sub: 'ACffffffffffffffffffffffffffffffff' })), CREDS, NOW)).toEqual({
      ok: false,
      reason: 'issued for another key or account',
    });
    expect(verifyAccessToken(sign(HEADER, claims({ iss: undefined })), CREDS, NOW)).toMatchObject({ ok: false });
  });

  test(`expiry with ${CLOCK_SKEW_SECONDS} s of skew: accepted until exp + skew, refused from then on; exp must be a number`, async () => {
    const expired = (exp: unknown) => verifyAccessToken(sign(HEADER, claims({ exp, iat: NOW - 7200 })), CREDS, NOW);
    expect(expired(NOW - CLOCK_SKEW_SECONDS + 1)).toMatchObject({ ok: true });
    expect(expired(NOW - CLOCK_SKEW_SECONDS)).toEqual({ ok: false, reason: 'expired' });
    expect(expired(NOW - 3600)).toEqual({ ok: false, reason: 'expired' });
    expect(expired(String(NOW + 3600))).toEqual({ ok: false, reason: 'expired' });
    expect(expired(undefined)).toEqual({ ok: false, reason: 'expired' });
    // the helper's own token, checked an hour and a minute after it was made
    const { token } = createVoiceAccessToken(CREDS, 'alice', 3600);
    const exp = parts(token).claims.exp as number;
    expect(verifyAccessToken(token, CREDS, exp + CLOCK_SKEW_SECONDS - 1).ok).toBe(true);
    expect(verifyAccessToken(token, CREDS, exp + CLOCK_SKEW_SECONDS)).toEqual({ ok: false, reason: 'expired' });
  });

  test('a token issued in the future beyond the skew is refused', () => {
    expect(verifyAccessToken(sign(HEADER, claims({ iat: NOW + CLOCK_SKEW_SECONDS })), CREDS, NOW).ok).toBe(true);
    expect(verifyAccessToken(sign(HEADER, claims({ iat: NOW + CLOCK_SKEW_SECONDS + 1 })), CREDS, NOW)).toEqual({
      ok: false,
      reason: 'issued in the future',
    });
  });

  test.each([
    [{ grants: {} }],
    [{ grants: { identity: '' } }],
    [{ grants: { identity: 42 } }],
    [{ grants: { identity: 'bad identity!' } }],
    [{ grants: { identity: '-leading-dash' } }],
    [{ grants: { identity: 'x'.repeat(122) } }],
    [{ grants: undefined }],
  ])('no valid identity (%j) is refused', (overrides) => {
    expect(verifyAccessToken(sign(HEADER, claims(overrides)), CREDS, NOW)).toEqual({ ok: false, reason: 'no valid identity' });
  });

  test.each([[''], ['abc'], ['a.b'], ['a.b.c.d'], ['a..c'], ['eyJ+.eyJ=.abc'], [' eyJhbGciOiJIUzI1NiJ9.e30.abc']])('%j is not a JWT', (token) => {
    expect(verifyAccessToken(token, CREDS, NOW)).toEqual({ ok: false, reason: 'not a JWT' });
  });

  test('unreadable parts are refused, never thrown', () => {
    expect(verifyAccessToken(`${b64('not json')}.${b64(claims())}.abc`, CREDS, NOW)).toEqual({ ok: false, reason: 'not signed with HS256' });
    expect(verifyAccessToken(`${b64([HEADER])}.${b64(claims())}.abc`, CREDS, NOW)).toEqual({ ok: false, reason: 'not signed with HS256' });
    expect(verifyAccessToken(sign(HEADER, 'not json'), CREDS, NOW)).toEqual({ ok: false, reason: 'unreadable claims' });
    expect(verifyAccessToken(sign(HEADER, [1, 2]), CREDS, NOW)).toEqual({ ok: false, reason: 'unreadable claims' });
    expect(verifyAccessToken(42 as unknown as string, CREDS, NOW)).toEqual({ ok: false, reason: 'not a JWT' });
  });
});

// ---------------------------------------------------------------------------------------------------------
// The authorizer function

const METHOD_ARN = 'arn:aws:execute-api:ap-northeast-1:123456789012:abc123/prod/POST/softphone/directory';

function authorizerDeps(credentials: CredentialsProvider): HandlerDeps {
  return {
    credentials,
    config: loadConfig({}),
    // the authorizer reads neither store
    lines: undefined as never,
    attempts: undefined as never,
  };
}

const provider = (creds: TwilioCredentials, refresh?: () => Promise<TwilioCredentials | undefined>): CredentialsProvider =>
  Object.assign(() => Promise.resolve(creds), refresh ? { refresh } : {});

describe('the page authorizer function', () => {
  test('a valid Bearer token → Allow on the page’s routes of this API and stage, and the identity as context', async () => {
    const handler = createPageAuthorizerHandler(authorizerDeps(provider(CREDS)));
    const { token } = createVoiceAccessToken(CREDS, 'alice', 600);
    const answer = await handler(
      { type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN },
      { log: new KeptLog(), metrics: NO_METRICS },
    );
    expect(answer).toEqual({
      principalId: 'alice',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:ap-northeast-1:123456789012:abc123/prod/*/softphone/*' },
        ],
      },
      context: { identity: 'alice' },
    });
    expect(pageRoutesArn(METHOD_ARN)).toBe('arn:aws:execute-api:ap-northeast-1:123456789012:abc123/prod/*/softphone/*');
  });

  test.each([
    ['no header', undefined],
    ['lower-case scheme', 'bearer TOKEN'],
    ['Basic', 'Basic YWxpY2U6c2VjcmV0'],
    ['two spaces', 'Bearer  TOKEN'],
    ['a token signed with another secret', 'Bearer OTHER'],
    ['an expired token', 'Bearer EXPIRED'],
  ])('%s → the error "Unauthorized" (API Gateway answers 401), logged without the token', async (_, header) => {
    const log = new KeptLog();
    const handler = createPageAuthorizerHandler(authorizerDeps(provider(CREDS)));
    const valid = createVoiceAccessToken(CREDS, 'alice', 600).token;
    const other = createVoiceAccessToken({ ...CREDS, apiKeySecret: 'another-secret' }, 'alice', 600).token;
    const expired = sign(HEADER, claims({ iat: NOW - 7200, exp: NOW - 3600 }));
    const authorizationToken = header?.replace('TOKEN', valid).replace('OTHER', other).replace('EXPIRED', expired);
    await expect(handler({ type: 'TOKEN', authorizationToken, methodArn: METHOD_ARN }, { log, metrics: NO_METRICS })).rejects.toThrow(
      new Error(UNAUTHORIZED),
    );
    expect(JSON.stringify(log.lines)).not.toContain(valid.split('.')[2]);
    expect(log.lines.some((l) => l.level === 'WARN' && l.message === 'page request refused')).toBe(true);
  });

  test('a token signed with a just-rotated API key secret is accepted after one re-read of the credentials', async () => {
    const rotated = { ...CREDS, apiKeySecret: 'rotated-api-key-secret' };
    let refreshed = 0;
    const handler = createPageAuthorizerHandler(
      authorizerDeps(
        provider(CREDS, async () => {
          refreshed++;
          return rotated;
        }),
      ),
    );
    const { token } = createVoiceAccessToken(rotated, 'alice', 600);
    await expect(
      handler({ authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN }, { log: new KeptLog(), metrics: NO_METRICS }),
    ).resolves.toMatchObject({
      principalId: 'alice',
    });
    expect(refreshed).toBe(1);
    // an expired token is not a reason to re-read the secret
    await expect(
      handler(
        { authorizationToken: `Bearer ${sign(HEADER, claims({ iat: NOW - 7200, exp: NOW - 3600 }))}`, methodArn: METHOD_ARN },
        { log: new KeptLog(), metrics: NO_METRICS },
      ),
    ).rejects.toThrow(UNAUTHORIZED);
    expect(refreshed).toBe(1);
  });

  test('credentials that cannot be had: an error other than Unauthorized (API Gateway answers 500, not "sign in again")', async () => {
    const failing: CredentialsProvider = () => Promise.reject(new CredentialsError('Secrets Manager unavailable'));
    const log = new KeptLog();
    const handler = createPageAuthorizerHandler(authorizerDeps(failing));
    const { token } = createVoiceAccessToken(CREDS, 'alice', 600);
    const err = await handler({ authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN }, { log, metrics: NO_METRICS }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as Error).message).not.toBe(UNAUTHORIZED);
    expect(log.lines.some((l) => l.level === 'ERROR')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------
// API Gateway's TOKEN authorizer rules, as the local app plays them

const LOCAL_ARN = 'arn:aws:execute-api:local:000000000000:local/prod/POST/softphone/voicemails';

/** Invokes a handler as Lambda would, into the outcome API Gateway sees. */
function asLambda(handler: Handler): (event: unknown) => Promise<LambdaOutcome> {
  return async (event) => {
    try {
      return { result: JSON.parse(JSON.stringify(await handler(event, { log: new KeptLog(), metrics: NO_METRICS }))) as unknown };
    } catch (error) {
      return { error };
    }
  };
}

function fixedAnswer(outcome: LambdaOutcome) {
  const events: unknown[] = [];
  const invoke = async (event: unknown) => {
    events.push(event);
    return outcome;
  };
  return { invoke, events };
}

const allow = (resource: unknown, action: unknown = 'execute-api:Invoke', effect = 'Allow') => ({
  Effect: effect,
  Action: action,
  Resource: resource,
});
const answer = (...statements: unknown[]) => ({
  result: { principalId: 'alice', policyDocument: { Version: '2012-10-17', Statement: statements }, context: { identity: 'alice' } },
});

describe('authorizeToken (API Gateway’s TOKEN authorizer)', () => {
  let bearer = '';
  beforeAll(async () => {
    bearer = `Bearer ${createVoiceAccessToken(CREDS, 'alice', 600).token}`;
  });
  const token = () => bearer;

  test('the real authorizer’s Allow: the context becomes $context.authorizer, with principalId', async () => {
    const handler = createPageAuthorizerHandler(authorizerDeps(provider(CREDS)));
    const verdict = await authorizeToken(asLambda(handler), { Authorization: token() }, LOCAL_ARN);
    expect(verdict).toEqual({ allowed: true, context: { identity: 'alice', principalId: 'alice' } });
    // its policy covers both page routes (API Gateway caches the answer per token), not the webhooks
    const directory = await authorizeToken(asLambda(handler), { authorization: token() }, LOCAL_ARN.replace('voicemails', 'directory'));
    expect(directory.allowed).toBe(true);
    const webhook = await authorizeToken(
      asLambda(handler),
      { Authorization: token() },
      'arn:aws:execute-api:local:000000000000:local/prod/POST/twilio/recording_status',
    );
    expect(webhook).toEqual({ allowed: false, status: 403 });
  });

  test('the event is a TOKEN event with the header value and the method ARN', async () => {
    const { invoke, events } = fixedAnswer(answer(allow(LOCAL_ARN)));
    const header = token();
    await authorizeToken(invoke, { AUTHORIZATION: header }, LOCAL_ARN);
    expect(events).toEqual([{ type: 'TOKEN', authorizationToken: header, methodArn: LOCAL_ARN }]);
  });

  test.each([
    ['no header', {}],
    ['an empty header', { Authorization: '' }],
    ['not Bearer', { Authorization: 'Basic YWxpY2U6c2VjcmV0' }],
    ['not three parts', { Authorization: 'Bearer abc.def' }],
    ['characters outside base64url', { Authorization: 'Bearer abc.d+f.ghi' }],
    ['a trailing space', { Authorization: 'Bearer abc.def.ghi ' }],
  ])('%s → 401 without invoking the function (the validation expression)', async (_, headers) => {
    const { invoke, events } = fixedAnswer(answer(allow(LOCAL_ARN)));
    expect(await authorizeToken(invoke, headers, LOCAL_ARN)).toEqual({ allowed: false, status: 401 });
    expect(events).toEqual([]);
    expect(new RegExp(PAGE_AUTHORIZER.validationRegex).test(token())).toBe(true);
  });

  test('the function throws "Unauthorized" → 401; any other error → 500', async () => {
    expect(await authorizeToken(fixedAnswer({ error: new Error('Unauthorized') }).invoke, { Authorization: token() }, LOCAL_ARN)).toEqual({
      allowed: false,
      status: 401,
    });
    expect(await authorizeToken(fixedAnswer({ error: new Error('unauthorized') }).invoke, { Authorization: token() }, LOCAL_ARN)).toEqual({
      allowed: false,
      status: 500,
    });
    const timedOut = Object.assign(new Error('Task timed out after 10.00 seconds'), { name: 'Sandbox.Timedout' });
    expect(await authorizeToken(fixedAnswer({ error: timedOut }).invoke, { Authorization: token() }, LOCAL_ARN)).toEqual({
      allowed: false,
      status: 500,
    });
  });

  test.each([
    [
      'a Deny on the method, even beside an Allow',
      [allow(LOCAL_ARN), allow('arn:aws:execute-api:local:000000000000:local/prod/*', 'execute-api:Invoke', 'Deny')],
    ],
    ['an Allow on another resource', [allow('arn:aws:execute-api:local:000000000000:local/prod/POST/softphone/directory')]],
    ['an Allow on another stage', [allow('arn:aws:execute-api:local:000000000000:local/test/*/softphone/*')]],
    ['an Allow of another action', [allow(LOCAL_ARN, 's3:GetObject')]],
    ['no statement at all', []],
  ])('%s → 403', async (_, statements) => {
    expect(await authorizeToken(fixedAnswer(answer(...statements)).invoke, { Authorization: token() }, LOCAL_ARN)).toEqual({
      allowed: false,
      status: 403,
    });
  });

  test('wildcards, lists of actions and resources, and execute-api:* allow', async () => {
    for (const statement of [
      allow('arn:aws:execute-api:local:000000000000:local/prod/*/softphone/*'),
      allow(['arn:aws:execute-api:local:000000000000:local/prod/GET/x', LOCAL_ARN]),
      allow(LOCAL_ARN, ['s3:GetObject', 'execute-api:Invoke']),
      allow('*', 'execute-api:*'),
    ]) {
      expect(await authorizeToken(fixedAnswer(answer(statement)).invoke, { Authorization: token() }, LOCAL_ARN)).toMatchObject({ allowed: true });
    }
  });

  test('a malformed answer (no principalId, no Statement list) → 500', async () => {
    const bad = [
      { result: null },
      { result: { policyDocument: { Statement: [allow(LOCAL_ARN)] } } },
      { result: { principalId: 'alice', policyDocument: {} } },
    ];
    for (const outcome of bad) {
      expect(await authorizeToken(fixedAnswer(outcome).invoke, { Authorization: token() }, LOCAL_ARN)).toEqual({ allowed: false, status: 500 });
    }
  });
});
