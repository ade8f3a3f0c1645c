/**
 * The local app over REAL HTTP (node fetch): the walkthrough's curl checks (section 2-8, signed, adapted),
 * API Gateway behaviour from ROUTES (415, model 400, CORS, unknown resources), static files, restarts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { addDevice } from '../../lib/devices/device-admin';
import { LocalAppError, startLocalApp, type LocalApp, type LocalAppOptions } from '../../lib/local/app';
import { signWebhook } from '../../lib/local/sign';
import {
  DEVICE_CLIENT,
  DEVICE_NUMBER,
  DEVICE_NUMBER_TYPED,
  FORM,
  INCOMING_BODY,
  incomingTwiml,
  OUTGOING_BODY,
  outgoingTwiml,
  TEST_CREDENTIALS,
  TOKEN_BODY,
} from '../support/fixtures';
import { decodeJwtPayload, writeSite } from './helpers';

const ORIGIN = 'http://softphone.example';
let dir: string;
let app: LocalApp;
let secret: string;
const lines: string[] = [];

function options(extra: Partial<LocalAppOptions> = {}): LocalAppOptions {
  return {
    port: 0,
    registryPath: path.join(dir, 'registry'),
    credentials: TEST_CREDENTIALS,
    allowedOrigin: ORIGIN,
    clientDir: path.join(dir, 'site'),
    env: { POWERTOOLS_LOG_LEVEL: 'WARN' },
    log: (line) => lines.push(line),
    ...extra,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-local-'));
  await writeSite(path.join(dir, 'site'));
  await writeFile(path.join(dir, 'secret.txt'), 'outside the site');
  app = await startLocalApp(options());
  ({ secret } = await addDevice(app.lines, { number: DEVICE_NUMBER_TYPED, clientName: DEVICE_CLIENT }));
});
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

const post = (url: string, body: string, headers: Record<string, string>) => fetch(url, { method: 'POST', body, headers });
const signed = (url: string, body: string) =>
  post(url, body, { 'Content-Type': FORM, 'X-Twilio-Signature': signWebhook(TEST_CREDENTIALS.authToken, url, body) });
const tokenRequest = (body: unknown) => post(app.routeUrls.token, JSON.stringify(body), { 'Content-Type': 'application/json' });

describe('the walkthrough curl checks (2-8), adapted', () => {
  test('token: the number in human format plus the device secret → 200 with a voice Access Token', async () => {
    const res = await tokenRequest({ twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: secret });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const body = (await res.json()) as { success: boolean; capabilityToken: string; identity: string; line: string; expiresAt: string };
    expect(body).toMatchObject({ success: true, identity: DEVICE_CLIENT, line: DEVICE_NUMBER });
    const claims = decodeJwtPayload(body.capabilityToken);
    expect(claims.iss).toBe(TEST_CREDENTIALS.apiKeySid);
    expect(claims.sub).toBe(TEST_CREDENTIALS.accountSid);
    expect((claims.grants as { identity: string }).identity).toBe(DEVICE_CLIENT);
    // valid for the default hour, and the answer says until when
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    expect(Date.parse(body.expiresAt)).toBe((claims.exp as number) * 1000);
  });

  test('token: the walkthrough request without a secret is refused by the model (400)', async () => {
    const res = await post(app.routeUrls.token, TOKEN_BODY, { 'Content-Type': 'application/json' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ success: false, capabilityToken: null });
  });

  test('token: a wrong secret and an unknown number get the same 403', async () => {
    const wrong = await tokenRequest({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: 'wrong secret!' });
    const unknown = await tokenRequest({ twilioPhoneNumber: '+81-50-3999-0000', deviceSecret: 'wrong secret!' });
    expect(wrong.status).toBe(403);
    expect(unknown.status).toBe(403);
    const a = await wrong.json();
    expect(a).toEqual({ success: false, capabilityToken: null, error: 'Unknown phone number or wrong device secret.' });
    expect(await unknown.json()).toEqual(a);
    expect(wrong.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  });

  test('incoming call: the walkthrough body, signed → <Dial answerOnBridge action><Client> of the line, the action at this app', async () => {
    const res = await signed(app.routeUrls.callIncoming, INCOMING_BODY);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml');
    expect(await res.text()).toBe(incomingTwiml(app.apiBaseUrl));
  });

  test('outgoing call: the walkthrough body, signed → <Dial callerId><Number> in E.164', async () => {
    const res = await signed(app.routeUrls.callOutgoing, OUTGOING_BODY);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(outgoingTwiml(app.apiBaseUrl));
  });
});

describe('webhooks', () => {
  test('a missing or wrong signature → 403 with an empty body', async () => {
    const none = await post(app.routeUrls.callIncoming, INCOMING_BODY, { 'Content-Type': FORM });
    expect(none.status).toBe(403);
    expect(await none.text()).toBe('');
    const otherUrl = signWebhook(TEST_CREDENTIALS.authToken, 'https://elsewhere.example/prod/twilio/retrieve_twiml/call_incoming', INCOMING_BODY);
    const wrong = await post(app.routeUrls.callIncoming, INCOMING_BODY, { 'Content-Type': FORM, 'x-twilio-signature': otherUrl });
    expect(wrong.status).toBe(403);
    const tampered = await post(app.routeUrls.callIncoming, INCOMING_BODY.replace('To=%2B815031234567', 'To=%2B815031234568'), {
      'Content-Type': FORM,
      'X-Twilio-Signature': signWebhook(TEST_CREDENTIALS.authToken, app.routeUrls.callIncoming, INCOMING_BODY),
    });
    expect(tampered.status).toBe(403);
  });

  test('an unregistered number: spoken error once, then Hangup (200)', async () => {
    const res = await signed(app.routeUrls.callIncoming, INCOMING_BODY.replace('To=%2B815031234567', 'To=%2B815031230000'));
    expect(res.status).toBe(200);
    const twiml = await res.text();
    expect(twiml).toMatch(/<Say[^>]*>[^<]*<\/Say><Hangup\/><\/Response>$/);
    expect(twiml).not.toContain('loop="0"');
  });

  test('hostile input stays data: markup in a destination never becomes TwiML', async () => {
    const body = OUTGOING_BODY.replace(
      'callOutgoingPhoneNumber=%2B81-90-5987-6543',
      `callOutgoingPhoneNumber=${encodeURIComponent('+8190</Number><Number>+1900')}`,
    );
    const res = await signed(app.routeUrls.callOutgoing, body);
    expect(res.status).toBe(200);
    const twiml = await res.text();
    expect(twiml).not.toContain('+1900');
    expect(twiml).toContain('<Hangup/>');
  });
});

describe('API Gateway behaviour from ROUTES', () => {
  test('415 for a content type without a template (passthrough NEVER)', async () => {
    const a = await post(app.routeUrls.token, 'x', { 'Content-Type': 'text/plain' });
    expect(a.status).toBe(415);
    expect(a.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(await a.json()).toMatchObject({ success: false, error: 'Unsupported media type.' });
    const b = await post(app.routeUrls.callIncoming, JSON.stringify({ To: DEVICE_NUMBER }), { 'Content-Type': 'application/json' });
    expect(b.status).toBe(415);
  });

  test('no Content-Type counts as application/json (token works, webhooks 415)', async () => {
    const res = await fetch(app.routeUrls.token, {
      method: 'POST',
      body: new TextEncoder().encode(JSON.stringify({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: secret })),
    });
    expect(res.status).toBe(200);
    const hook = await fetch(app.routeUrls.callIncoming, { method: 'POST', body: new TextEncoder().encode(INCOMING_BODY) });
    expect(hook.status).toBe(415);
  });

  test.each([
    ['not JSON', '{"twilioPhoneNumber": '],
    ['an array', '[]'],
    ['a number field', '{"twilioPhoneNumber": 815031234567, "deviceSecret": "x"}'],
    ['an empty secret', '{"twilioPhoneNumber": "+815031234567", "deviceSecret": ""}'],
    ['a huge number field', JSON.stringify({ twilioPhoneNumber: '1'.repeat(40), deviceSecret: 'x' })],
  ])('400 BAD_REQUEST_BODY from the token model: %s', async (_name, body) => {
    const res = await post(app.routeUrls.token, body, { 'Content-Type': 'application/json; charset=utf-8' });
    expect(res.status).toBe(400);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(await res.json()).toMatchObject({ success: false, capabilityToken: null });
  });

  test('a number the handler cannot parse → 400 from the handler (selection pattern)', async () => {
    const res = await tokenRequest({ twilioPhoneNumber: 'call me', deviceSecret: secret });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ success: false, capabilityToken: null });
  });

  test('CORS preflight from another origin', async () => {
    for (const url of Object.values(app.routeUrls)) {
      const res = await fetch(url, {
        method: 'OPTIONS',
        headers: {
          Origin: 'http://elsewhere.example:8080',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(res.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
      expect(res.headers.get('access-control-allow-headers')).toBe('Content-Type, X-Twilio-Signature, Authorization');
    }
  });

  test("CORS defaults to the app's own origin, never *; SOFTPHONE_ALLOWED_ORIGIN overrides it", async () => {
    const own = await startLocalApp(options({ allowedOrigin: undefined, registryPath: path.join(dir, 'registry-cors') }));
    try {
      const res = await fetch(own.routeUrls.token, {
        method: 'OPTIONS',
        headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' },
      });
      expect(res.headers.get('access-control-allow-origin')).toBe(own.url);
    } finally {
      await own.close();
    }
    const configured = await startLocalApp(
      options({
        allowedOrigin: undefined,
        env: { SOFTPHONE_ALLOWED_ORIGIN: 'https://phone.example' },
        registryPath: path.join(dir, 'registry-cors'),
      }),
    );
    try {
      const res = await post(configured.routeUrls.token, '{}', { 'Content-Type': 'application/json' });
      expect(res.headers.get('access-control-allow-origin')).toBe('https://phone.example');
    } finally {
      await configured.close();
    }
  });

  test('TWILIO_EDGE goes into config.json as the page reads it; an unknown edge stops the start', async () => {
    const edged = await startLocalApp(options({ env: { TWILIO_EDGE: 'Tokyo,singapore' }, registryPath: path.join(dir, 'registry-edge') }));
    try {
      expect(await (await fetch(`${edged.url}/config.json`)).json()).toEqual({ apiBaseUrl: edged.apiBaseUrl, edge: ['tokyo', 'singapore'] });
    } finally {
      await edged.close();
    }
    await expect(startLocalApp(options({ env: { TWILIO_EDGE: 'atlantis' }, registryPath: path.join(dir, 'registry-edge') }))).rejects.toThrow(
      /TWILIO_EDGE/,
    );
  });

  test('unknown resources and methods → 403 like API Gateway (DEFAULT_4XX, CORS)', async () => {
    for (const [method, url] of [
      ['GET', `${app.apiBaseUrl}/twilio/nope`],
      ['POST', `${app.apiBaseUrl}/twilio/nope`],
      ['GET', app.routeUrls.token],
      ['PUT', app.routeUrls.callIncoming],
      ['GET', app.apiBaseUrl],
    ] as const) {
      const res = await fetch(url, { method });
      expect([method, url, res.status]).toEqual([method, url, 403]);
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(await res.json()).toMatchObject({ success: false });
    }
  });

  test('the page API sits behind the authorizer: 401 (UNAUTHORIZED, CORS) without the Access Token of a sign-in, 200 with it', async () => {
    const refused: Record<string, string>[] = [
      { 'Content-Type': 'application/json' },
      { 'Content-Type': 'application/json', Authorization: 'Bearer not-a-token' },
      { 'Content-Type': 'application/json', Authorization: 'Bearer aaa.bbb.ccc' },
    ];
    for (const headers of refused) {
      const res = await post(app.routeUrls.directory, '{}', headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(await res.json()).toEqual({ success: false, error: 'Sign in again: the session is missing, expired or not valid.' });
    }
    const { capabilityToken } = (await (await tokenRequest({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: secret })).json()) as {
      capabilityToken: string;
    };
    const res = await post(app.routeUrls.directory, '{}', { 'Content-Type': 'application/json', Authorization: `Bearer ${capabilityToken}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      success: true,
      you: DEVICE_CLIENT,
      line: { number: DEVICE_NUMBER },
      members: [{ clientName: DEVICE_CLIENT }],
    });
  });

  test('every API answer carries a request id and is logged on one line', async () => {
    const res = await signed(app.routeUrls.callIncoming, INCOMING_BODY);
    const id = res.headers.get('x-amzn-requestid');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.filter((l) => l.includes(id!) && / POST \/prod\/twilio\/retrieve_twiml\/call_incoming 200 /.test(l))).toHaveLength(1);
  });
});

describe('static softphone', () => {
  test('/, files with content types, config.json', async () => {
    const index = await fetch(`${app.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await index.text()).toContain('softphone');
    const js = await fetch(`${app.url}/assets/app-TEST0001.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${app.url}/assets/app-TEST0002.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    const config = await fetch(`${app.url}/config.json`);
    expect(await config.json()).toEqual({ apiBaseUrl: app.apiBaseUrl });
    // as on the deployed site: hashed assets are immutable, the page and config.json are revalidated on every load
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(config.headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${app.url}/missing.js`)).status).toBe(404);
    expect((await fetch(`${app.url}/`, { method: 'POST' })).status).toBe(405);
  });

  test('no directory traversal', async () => {
    for (const p of ['/..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/..%5csecret.txt', '/a/..%2f..%2fsecret.txt', '/%00index.html']) {
      const res = await fetch(`${app.url}${p}`);
      expect([p, res.status]).toEqual([p, expect.any(Number)]);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(await res.text()).not.toContain('outside the site');
    }
  });
});

describe('lifecycle', () => {
  test('a restart keeps the lines and their devices (dynalite persisted at the registry path)', async () => {
    await app.close();
    app = await startLocalApp(options());
    expect((await app.lines.findLine(DEVICE_NUMBER))?.members.map((m) => m.clientName)).toEqual([DEVICE_CLIENT]);
    const res = await tokenRequest({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: secret });
    expect(res.status).toBe(200);
  });

  test('a port in use is a clear LocalAppError', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startLocalApp(options({ port, registryPath: path.join(dir, 'registry-2') })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LocalAppError);
      expect((err as LocalAppError).kind).toBe('port-in-use');
      expect((err as LocalAppError).message).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
    // The failed start released its registry: it can be opened again.
    const again = await startLocalApp(options({ registryPath: path.join(dir, 'registry-2') }));
    await again.close();
  });

  test('bad configuration and an unusable registry are clear LocalAppErrors', async () => {
    const bad = await startLocalApp(options({ env: { TOKEN_TTL_SECONDS: '5' }, registryPath: path.join(dir, 'registry-3') })).catch(
      (e: unknown) => e,
    );
    expect(bad).toMatchObject({ kind: 'config' });
    expect((bad as Error).message).toContain('TOKEN_TTL_SECONDS');
    const partial = await startLocalApp(
      options({ credentials: undefined, env: { TWILIO_ACCOUNT_SID: 'AC1' }, registryPath: path.join(dir, 'registry-3') }),
    ).catch((e: unknown) => e);
    expect(partial).toMatchObject({ kind: 'config' });
    expect((partial as Error).message).toContain('TWILIO_AUTH_TOKEN');
    await writeFile(path.join(dir, 'a-file'), 'not a directory');
    const reg = await startLocalApp(options({ registryPath: path.join(dir, 'a-file') })).catch((e: unknown) => e);
    expect(reg).toMatchObject({ kind: 'registry' });
    expect((reg as Error).message).toContain('cannot be created or read');
  });
});
