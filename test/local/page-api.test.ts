/**
 * The page's own API through the real local app over HTTP (issue 14): the routes behind the page authorizer
 * take the Twilio Access Token the page got from the token route, in `Authorization: Bearer …`. No token, a
 * malformed one, one signed with another secret, an expired one → 401 with the gateway's JSON body; a valid
 * one → the caller's own line's directory; a device removed after signing in → 403.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import jwt from 'jsonwebtoken';
import { createVoiceAccessToken } from '../../lambda/core/access-token';
import { DEFAULT_LINE_SETTINGS } from '../../lambda/core/line';
import { GATEWAY_RESPONSES } from '../../lib/api/routes';
import { type LocalApp, startLocalApp } from '../../lib/local/app';
import { TEST_CREDENTIALS } from '../support/fixtures';
import { memberRecord, writeMinimalSite } from '../support/lines';

const ORIGIN = 'http://softphone.example';
const LINE_A = '+815031234567';
const LINE_B = '+815031234568';
let dir: string;
let app: LocalApp;
const logged: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-page-api-'));
  app = await startLocalApp({
    port: 0,
    registryPath: path.join(dir, 'registry'),
    credentials: TEST_CREDENTIALS,
    allowedOrigin: ORIGIN,
    clientDir: await writeMinimalSite(path.join(dir, 'site')),
    env: {},
    log: (line) => logged.push(line),
  });
  await app.lines.put(await memberRecord(LINE_A, 'alice', { label: 'Front desk', createdAt: '2024-01-01T00:00:00.000Z' }));
  await app.lines.put(await memberRecord(LINE_A, 'bob', { createdAt: '2024-01-02T00:00:00.000Z' }));
  await app.lines.put(await memberRecord(LINE_B, 'carol', { createdAt: '2024-01-03T00:00:00.000Z' }));
  await app.lines.putSettings(LINE_B, {
    ...DEFAULT_LINE_SETTINGS,
    forwardTo: '+819059876543',
    hours: 'Mon-Fri 09:00-18:00',
    timeZone: 'Asia/Tokyo',
    voicemail: false,
  });
}, 60_000);
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Signs in through the token route, as the page does. */
async function signIn(number: string, clientName: string): Promise<string> {
  const res = await fetch(app.routeUrls.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ twilioPhoneNumber: number, deviceSecret: `secret-of-${clientName}`, clientName }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { capabilityToken: string; identity: string; line: string };
  expect(body).toMatchObject({ identity: clientName, line: number });
  return body.capabilityToken;
}

function page(route: 'directory' | 'voicemails', body: unknown, authorization?: string) {
  return fetch(app.routeUrls[route], {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(authorization !== undefined ? { Authorization: authorization } : {}) },
    body: JSON.stringify(body),
  });
}

const UNAUTHORIZED_BODY = JSON.parse(GATEWAY_RESPONSES.find((g) => g.type === 'UNAUTHORIZED')!.template) as unknown;

describe('the page authorizer in front of the page’s routes', () => {
  test('no Authorization header → 401 with the gateway’s JSON body (CORS too, so the page can read it)', async () => {
    for (const route of ['directory', 'voicemails'] as const) {
      const res = await page(route, { action: 'list' });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(await res.json()).toEqual(UNAUTHORIZED_BODY);
    }
    expect(UNAUTHORIZED_BODY).toEqual({ success: false, error: 'Sign in again: the session is missing, expired or not valid.' });
  });

  test('malformed headers → 401', async () => {
    const token = await signIn(LINE_A, 'alice');
    for (const header of [
      '',
      'Bearer',
      'Bearer abc',
      `bearer ${token}`,
      `Basic ${Buffer.from('alice:secret').toString('base64')}`,
      `Bearer ${token}x!`,
      `${token}`,
    ]) {
      const res = await page('directory', {}, header);
      expect({ header, status: res.status }).toEqual({ header, status: 401 });
      expect(await res.json()).toEqual(UNAUTHORIZED_BODY);
    }
  });

  test('a token signed with another API key secret → 401', async () => {
    const { token } = createVoiceAccessToken({ ...TEST_CREDENTIALS, apiKeySecret: 'some-other-api-key-secret' }, 'alice', 600);
    const res = await page('directory', {}, `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(UNAUTHORIZED_BODY);
  });

  test('an expired token (its signature good) → 401; one with alg none → 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      jti: `${TEST_CREDENTIALS.apiKeySid}-${now - 7200}`,
      grants: { identity: 'alice', voice: { incoming: { allow: true } } },
      iat: now - 7200,
      exp: now - 3600,
      iss: TEST_CREDENTIALS.apiKeySid,
      sub: TEST_CREDENTIALS.accountSid,
    };
    const expired = jwt.sign(claims, TEST_CREDENTIALS.apiKeySecret, {
      algorithm: 'HS256',
      header: { alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' } as jwt.JwtHeader,
    });
    expect((await page('directory', {}, `Bearer ${expired}`)).status).toBe(401);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, exp: now + 3600 })).toString('base64url')}.${expired.split('.')[2]}`;
    expect((await page('directory', {}, `Bearer ${none}`)).status).toBe(401);
  });

  test('the CORS preflight allows the Authorization header', async () => {
    const res = await fetch(app.routeUrls.directory, {
      method: 'OPTIONS',
      headers: { Origin: ORIGIN, 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-headers')?.split(/,\s*/)).toContain('Authorization');
  });
});

describe('the directory', () => {
  test('a valid token → the caller’s own line: its members in ring order, with labels; never secrets', async () => {
    const res = await page('directory', {}, `Bearer ${await signIn(LINE_A, 'bob')}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      success: true,
      you: 'bob',
      line: { number: LINE_A, voicemail: true, forwarding: false },
      members: [{ clientName: 'alice', label: 'Front desk' }, { clientName: 'bob' }],
    });
    expect(text).not.toContain('scrypt');
    expect(text).not.toContain('secret');
  });

  test('another line’s device sees its own line only, with what the line does with calls', async () => {
    const res = await page('directory', {}, `Bearer ${await signIn(LINE_B, 'carol')}`);
    expect(await res.json()).toEqual({
      success: true,
      you: 'carol',
      line: { number: LINE_B, voicemail: false, forwarding: true, hours: 'Mon-Fri 09:00-18:00', timeZone: 'Asia/Tokyo' },
      members: [{ clientName: 'carol' }],
    });
  });

  test('a device removed after signing in → 403 on both routes (its still-valid token is not enough)', async () => {
    await app.lines.put(await memberRecord(LINE_A, 'leaver', { createdAt: '2024-01-05T00:00:00.000Z' }));
    const token = await signIn(LINE_A, 'leaver');
    expect((await page('directory', {}, `Bearer ${token}`)).status).toBe(200);
    await app.lines.remove('leaver');
    for (const route of ['directory', 'voicemails'] as const) {
      const res = await page(route, { action: 'list' }, `Bearer ${token}`);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ success: false, error: 'This device is no longer registered. Ask your administrator.' });
    }
    // and the line no longer lists it
    const directory = (await (await page('directory', {}, `Bearer ${await signIn(LINE_A, 'alice')}`)).json()) as {
      members: { clientName: string }[];
    };
    expect(directory.members.map((m) => m.clientName)).toEqual(['alice', 'bob']);
  });

  test('a well-signed token for an identity that was never registered → 403', async () => {
    const { token } = createVoiceAccessToken(TEST_CREDENTIALS, 'ghost', 600);
    expect((await page('directory', {}, `Bearer ${token}`)).status).toBe(403);
  });
});

describe('the voicemails route’s requests', () => {
  test('list answers the caller’s line with no messages yet; a bad action or id → 400 with the page’s JSON error', async () => {
    const auth = `Bearer ${await signIn(LINE_A, 'alice')}`;
    const list = await page('voicemails', { action: 'list' }, auth);
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ success: true, line: LINE_A, voicemails: [], unheard: 0 });
    const badAction = await page('voicemails', { action: 'wipe' }, auth);
    expect(badAction.status).toBe(400);
    expect(await badAction.json()).toEqual({ success: false, error: 'action must be one of list, play, markHeard, delete.' });
    for (const id of [undefined, '', 'RE123', `RE${'A'.repeat(32)}`, `../${'a'.repeat(32)}`]) {
      const res = await page('voicemails', { action: 'play', ...(id !== undefined ? { id } : {}) }, auth);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ success: false, error: 'id must be a voicemail id (RE…).' });
    }
    const unknown = await page('voicemails', { action: 'markHeard', id: `RE${'0'.repeat(32)}` }, auth);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ success: false, error: 'No such voicemail.' });
  });

  test('nothing secret is logged: no token, no Authorization header value', async () => {
    const token = await signIn(LINE_A, 'alice');
    await page('voicemails', { action: 'list' }, `Bearer ${token}`);
    await page('voicemails', { action: 'list' }, `Bearer ${token.slice(0, -3)}abc`);
    const text = logged.join('\n');
    expect(text).not.toContain(token.split('.')[2]);
    expect(text).not.toContain('secret-of-');
  });
});
