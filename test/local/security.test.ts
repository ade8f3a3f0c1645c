/**
 * Security round 2 of the local app (`npm start`), over real HTTP against `startLocalApp`:
 *
 * 1. the embedded registry (dynalite) is closed to web pages (any request with an `Origin` or `Sec-Fetch-*`
 *    header: 403 before it is read, no CORS header) and to anyone without the run's key pair (DynamoDB's own
 *    400 errors); it listens on 127.0.0.1 only and its endpoint file is private (0600);
 * 2. one hostile body (1.2 MB of 400,000 parameters) does not hold up other requests: a large body renders in
 *    a worker (`createTemplateRenderer`), and a signed webhook is answered while the hostile one is in flight;
 * 3. the page is served with the deployed site's security headers, and only under the app's own host names
 *    (DNS rebinding: 421 for any other Host);
 * 4. the fallback TwiML of the real client build is served as XML.
 * The Chromium side of (1), a page on another origin attacking the registry, is test/e2e/registry-isolation.test.ts.
 */
import { DynamoDBClient, GetItemCommand, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildClient } from '../../client/build';
import { hostileFormBody } from '../../lib/bench/local-server';
import { addDevice } from '../../lib/devices/device-admin';
import { ROUTES } from '../../lib/api/routes';
import { appHostNames, startLocalApp, type LocalApp, type LocalAppOptions } from '../../lib/local/app';
import { endpointFilePath, LOCAL_LEGACY_DEVICES_TABLE, LOCAL_REGISTRY_TABLE } from '../../lib/local/registry-server';
import { signWebhook } from '../../lib/local/sign';
import { createTemplateRenderer, RendererBusyError } from '../../lib/local/template-renderer';
import { isTwimlDocument } from '../../lib/ops/doctor';
import { FALLBACK_MESSAGE, fallbackTwiml } from '../../lib/site/fallback';
import { securityHeaders } from '../../lib/site/security-headers';
import { createGatewayContext, renderRequestTemplate, VtlRenderError, type GatewayRequest } from '../../lib/vtl';
import { DEVICE_CLIENT, DEVICE_NUMBER, FORM, formParams, INCOMING_BODY, incomingTwiml, TEST_CREDENTIALS } from '../support/fixtures';
import { writeSite } from './helpers';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-security-'));
  await writeSite(path.join(dir, 'site'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A fresh registry per app (`name`), the tiny site, the test credentials. */
function options(name: string, extra: Partial<LocalAppOptions> = {}): LocalAppOptions {
  return {
    port: 0,
    registryPath: path.join(dir, name),
    credentials: TEST_CREDENTIALS,
    clientDir: path.join(dir, 'site'),
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    log: () => undefined,
    ...extra,
  };
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request with node:http, which sends exactly the headers given (fetch adds `Sec-Fetch-Mode` to every
 * request and will not set `Host`). `sent` resolves once the whole body is handed to the socket.
 */
function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): { sent: Promise<void>; response: Promise<RawResponse> } {
  let onSent!: () => void;
  const sent = new Promise<void>((resolve) => (onSent = resolve));
  const response = new Promise<RawResponse>((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('finish', onSent);
    req.end(opts.body);
  });
  return { sent, response };
}

const raw = (url: string, opts: Parameters<typeof rawRequest>[1] = {}) => rawRequest(url, opts).response;

// ---------------------------------------------------------------------------------------------------------

describe('1. the local registry is closed to web pages and to anyone without the run’s key pair', () => {
  let app: LocalApp;
  let endpoint: string;
  const amzJson = (target: string) => ({ 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': `DynamoDB_20120810.${target}` });
  /** What a page can send: a made-up signature in the right format (dynalite by itself checks only the format). */
  const forgedSignature = () => {
    const date = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    return {
      'X-Amz-Date': date,
      Authorization: `AWS4-HMAC-SHA256 Credential=attacker/${date.slice(0, 8)}/local/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    };
  };
  const scanBody = JSON.stringify({ TableName: LOCAL_REGISTRY_TABLE });
  const sdk = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
    new DynamoDBClient({ endpoint, region: app.registry.region, credentials, maxAttempts: 1 });

  beforeAll(async () => {
    app = await startLocalApp(options('registry-closed'));
    endpoint = app.registry.endpoint;
    await addDevice(app.lines, { number: DEVICE_NUMBER, clientName: DEVICE_CLIENT });
  });
  afterAll(async () => {
    await app?.close();
  });

  test('a page’s request (fetch with an Origin): ListTables, Scan and the CORS preflight → 403, no CORS header', async () => {
    const attempts: Array<[string, RequestInit]> = [
      ['ListTables', { method: 'POST', headers: { Origin: 'http://evil.example', ...amzJson('ListTables'), ...forgedSignature() }, body: '{}' }],
      ['Scan', { method: 'POST', headers: { Origin: 'http://evil.example', ...amzJson('Scan'), ...forgedSignature() }, body: scanBody }],
      [
        'preflight',
        {
          method: 'OPTIONS',
          headers: {
            Origin: 'http://evil.example',
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'authorization,content-type,x-amz-date,x-amz-target',
          },
        },
      ],
    ];
    for (const [name, init] of attempts) {
      const res = await fetch(endpoint, init);
      const body = await res.text();
      expect([name, res.status]).toEqual([name, 403]);
      expect([name, res.headers.get('access-control-allow-origin')]).toEqual([name, null]);
      expect(body).not.toContain('secretHash');
      expect(body).not.toContain(LOCAL_REGISTRY_TABLE);
    }
  });

  test('an Origin alone, or a Sec-Fetch-* header alone, is enough to be refused (403)', async () => {
    const alone: Record<string, string>[] = [{ Origin: 'null' }, { 'Sec-Fetch-Mode': 'no-cors' }, { 'Sec-Fetch-Site': 'cross-site' }];
    for (const extra of alone) {
      const res = await raw(endpoint, { method: 'POST', headers: { ...amzJson('Scan'), ...forgedSignature(), ...extra }, body: scanBody });
      expect([extra, res.status]).toEqual([extra, 403]);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.body).not.toContain('secretHash');
    }
  });

  test('a browser’s request is refused before its body is read', async () => {
    // The body is never finished: the answer can only come before it is read.
    const answered = new Promise<number>((resolve, reject) => {
      const req = httpRequest(endpoint, { method: 'POST', headers: { Origin: 'http://evil.example', ...amzJson('Scan') }, agent: false }, (res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        req.destroy();
      });
      req.on('error', (err) => {
        if (!req.destroyed) reject(err);
      });
      req.write('{"TableName": "softphone-');
    });
    expect(await answered).toBe(403);
  });

  test('unsigned → 400 MissingAuthenticationTokenException; a made-up signature → 400 UnrecognizedClientException (DynamoDB’s format)', async () => {
    const unsigned = await raw(endpoint, { method: 'POST', headers: amzJson('Scan'), body: scanBody });
    expect(unsigned.status).toBe(400);
    expect((JSON.parse(unsigned.body) as { __type: string }).__type).toMatch(/#MissingAuthenticationTokenException$/);
    const forged = await raw(endpoint, { method: 'POST', headers: { ...amzJson('Scan'), ...forgedSignature() }, body: scanBody });
    expect(forged.status).toBe(400);
    expect((JSON.parse(forged.body) as { __type: string }).__type).toMatch(/#UnrecognizedClientException$/);
    for (const res of [unsigned, forged]) {
      expect(res.headers['content-type']).toBe('application/x-amz-json-1.0');
      expect(res.body).not.toContain('secretHash');
    }
  });

  test('wrong credentials → UnrecognizedClientException (unknown key) or InvalidSignatureException (wrong secret)', async () => {
    const stranger = sdk({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });
    const wrongSecret = sdk({ accessKeyId: app.registry.credentials.accessKeyId, secretAccessKey: 'not the secret' });
    try {
      await expect(stranger.send(new ScanCommand({ TableName: LOCAL_REGISTRY_TABLE }))).rejects.toMatchObject({
        name: 'UnrecognizedClientException',
        $metadata: { httpStatusCode: 400 },
      });
      await expect(wrongSecret.send(new ScanCommand({ TableName: LOCAL_REGISTRY_TABLE }))).rejects.toMatchObject({
        name: 'InvalidSignatureException',
        $metadata: { httpStatusCode: 400 },
      });
    } finally {
      stranger.destroy();
      wrongSecret.destroy();
    }
  });

  test('the app’s own key pair works (the devices and their hashes are there)', async () => {
    const client = sdk(app.registry.credentials);
    try {
      const tables = await client.send(new ListTablesCommand({}));
      expect(tables.TableNames).toContain(LOCAL_REGISTRY_TABLE);
      expect(tables.TableNames).not.toContain(LOCAL_LEGACY_DEVICES_TABLE); // a new registry: no first-release table to upgrade
      const item = await client.send(
        new GetItemCommand({ TableName: LOCAL_REGISTRY_TABLE, Key: { pk: { S: `LINE#${DEVICE_NUMBER}` }, sk: { S: `MEMBER#${DEVICE_CLIENT}` } } }),
      );
      expect(item.Item?.clientName?.S).toBe(DEVICE_CLIENT);
      expect(item.Item?.secretHash?.S).toEqual(expect.any(String));
    } finally {
      client.destroy();
    }
  });

  test('the endpoint file holding the key pair is readable by its owner only (0600)', async () => {
    const file = endpointFilePath(path.join(dir, 'registry-closed'));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const info = JSON.parse(await readFile(file, 'utf8')) as { endpoint: string; credentials: unknown };
    expect(info.endpoint).toBe(endpoint);
    expect(info.credentials).toEqual(app.registry.credentials);
  });

  test('it listens on 127.0.0.1 only', async () => {
    const { hostname, port } = new URL(endpoint);
    expect(hostname).toBe('127.0.0.1');
    const reaches = (host: string) =>
      new Promise<boolean>((resolve) => {
        const socket = connect({ host, port: Number(port) });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
    expect(await reaches('127.0.0.1')).toBe(true);
    // Another loopback address (Linux routes all of 127/8 to lo), IPv6 loopback, and this machine's other addresses.
    const others = [
      ...(process.platform === 'linux' ? ['127.0.0.2'] : []),
      '::1',
      ...Object.values(networkInterfaces())
        .flat()
        .filter((a) => a && !a.internal && a.family === 'IPv4')
        .map((a) => a!.address),
    ];
    for (const host of others) expect([host, await reaches(host)]).toEqual([host, false]);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('2. one hostile body does not freeze the app', () => {
  let app: LocalApp;

  beforeAll(async () => {
    app = await startLocalApp(options('registry-hostile'));
    await addDevice(app.lines, { number: DEVICE_NUMBER, clientName: DEVICE_CLIENT });
  });
  afterAll(async () => {
    await app?.close();
  });

  test('signed webhooks are answered while a 1.2 MB body of 400,000 parameters is in flight; that one ends 403', async () => {
    const body = hostileFormBody();
    expect(Buffer.byteLength(body)).toBeGreaterThan(1_150_000);
    const order: string[] = [];
    const hostile = rawRequest(app.routeUrls.callIncoming, { method: 'POST', headers: { 'Content-Type': FORM }, body });
    const hostileDone = hostile.response.then((res) => {
      order.push('hostile');
      return res;
    });
    await hostile.sent;
    const url = app.routeUrls.callIncoming;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': FORM, 'X-Twilio-Signature': signWebhook(TEST_CREDENTIALS.authToken, url, INCOMING_BODY) },
        body: INCOMING_BODY,
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(incomingTwiml(app.apiBaseUrl));
      order.push(`signed ${i}`);
    }
    const refused = await hostileDone;
    expect(order).toEqual(['signed 0', 'signed 1', 'signed 2', 'hostile']);
    // More than 1000 parameters is not Twilio's: refused as malformed, like an unsigned request (403, no TwiML).
    expect(refused.status).toBe(403);
    expect(refused.body).toBe('');
  }, 120_000);
});

describe('2. createTemplateRenderer: large bodies render in a worker, with the inline renderer’s result', () => {
  const route = ROUTES.find((r) => r.id === 'callIncoming')!;
  const requestWith = (body: string): GatewayRequest => ({
    body,
    headers: { 'Content-Type': FORM, 'X-Twilio-Signature': 'sig' },
    query: { line: 'sales' },
    pathParams: {},
    stageVariables: {},
    context: createGatewayContext({ domainName: '127.0.0.1:3000', path: `/prod${route.path}`, resourcePath: route.path }),
  });
  // Walkthrough parameters plus awkward ones (quotes, backslashes, non-ASCII, `=` in a value), about 40 KB.
  const padding = Array.from({ length: 2000 }, (_, i) => `p${i}=${encodeURIComponent(`v"'\\ ${i} ☎ a=b`)}`).join('&');
  const largeBody = `${INCOMING_BODY}&${padding}`;

  /** Counts setImmediate turns of this event loop until `promise` settles. */
  async function turnsWhilePending<T>(start: () => Promise<T>): Promise<{ turns: number; result: PromiseSettledResult<T> }> {
    let turns = 0;
    let settled = false;
    const turn = () => {
      if (settled) return;
      turns++;
      setImmediate(turn);
    };
    setImmediate(turn);
    const [result] = await Promise.allSettled([start()]);
    settled = true;
    return { turns, result };
  }

  test('a body above inlineMaxBytes renders off the event loop (other callbacks run meanwhile); a small one inline', async () => {
    const renderer = createTemplateRenderer({ inlineMaxBytes: 1024 });
    try {
      const large = await turnsWhilePending(() => renderer.renderRequest(route.requestTemplate, requestWith(largeBody)));
      expect(large.result.status).toBe('fulfilled');
      expect(large.turns).toBeGreaterThan(0);
      // The control: a body under the limit renders synchronously, so no callback runs before its result.
      const small = await turnsWhilePending(() => renderer.renderRequest(route.requestTemplate, requestWith(INCOMING_BODY)));
      expect(small.result.status).toBe('fulfilled');
      expect(small.turns).toBe(0);
    } finally {
      await renderer.close();
    }
  });

  test('the worker’s output equals the inline renderer’s for the same request', async () => {
    const worker = createTemplateRenderer({ inlineMaxBytes: 1024 });
    const inline = createTemplateRenderer({ inlineMaxBytes: Number.MAX_SAFE_INTEGER });
    try {
      const request = requestWith(largeBody);
      const fromWorker = await worker.renderRequest(route.requestTemplate, request);
      expect(fromWorker).toBe(await inline.renderRequest(route.requestTemplate, request));
      expect(fromWorker).toBe(renderRequestTemplate(route.requestTemplate, request));
      const event = JSON.parse(fromWorker) as { params: Record<string, string>; signature: string; query: Record<string, string> };
      expect(event.params).toEqual(formParams(largeBody));
      expect(event.signature).toBe('sig');
      expect(event.query).toEqual({ line: 'sales' });
    } finally {
      await worker.close();
      await inline.close();
    }
  });

  test('at most maxQueued large bodies wait for the worker; one more is refused (RendererBusyError), and after them it renders again', async () => {
    const renderer = createTemplateRenderer({ inlineMaxBytes: 1024, maxQueued: 2 });
    try {
      const queued = [1, 2].map(() => renderer.renderRequest(route.requestTemplate, requestWith(largeBody)));
      await expect(renderer.renderRequest(route.requestTemplate, requestWith(largeBody))).rejects.toBeInstanceOf(RendererBusyError);
      // a small body is never queued
      await expect(renderer.renderRequest(route.requestTemplate, requestWith(INCOMING_BODY))).resolves.toContain('"signature"');
      for (const result of await Promise.allSettled(queued)) expect(result.status).toBe('fulfilled');
      await expect(renderer.renderRequest(route.requestTemplate, requestWith(largeBody))).resolves.toContain('"signature"');
    } finally {
      await renderer.close();
    }
  });

  test('a render error in the worker surfaces as a VtlRenderError (a malformed % escape), and the worker renders on', async () => {
    const renderer = createTemplateRenderer({ inlineMaxBytes: 1024 });
    try {
      const bad = requestWith(`Bad=%zz&${padding}`);
      const inlineError = (() => {
        try {
          renderRequestTemplate(route.requestTemplate, bad);
        } catch (err) {
          return err as Error;
        }
        throw new Error('the inline renderer accepted a malformed escape');
      })();
      expect(inlineError).toBeInstanceOf(VtlRenderError);
      const err = await renderer.renderRequest(route.requestTemplate, bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VtlRenderError);
      expect((err as Error).message).toBe(inlineError.message);
      expect((err as Error).message).toContain('Illegal hex characters');
      // The same worker goes on rendering the next body.
      const next = await renderer.renderRequest(route.requestTemplate, requestWith(largeBody));
      expect(next).toBe(renderRequestTemplate(route.requestTemplate, requestWith(largeBody)));
    } finally {
      await renderer.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('3. the deployed site’s security headers, and only the app’s own host names (DNS rebinding)', () => {
  let app: LocalApp;
  let port: string;
  let expected: Record<string, string>;

  beforeAll(async () => {
    app = await startLocalApp(options('registry-headers'));
    port = new URL(app.url).port;
    // The deployed site's headers; recordings may be played from any of the app's own names (media-src).
    expected = securityHeaders([], { https: false, mediaOrigins: [app.url, `http://localhost:${port}`] });
  });
  afterAll(async () => {
    await app?.close();
  });

  test('CSP, X-Frame-Options, nosniff, Referrer-Policy and Permissions-Policy on the page, an asset, config.json and a 404', async () => {
    expect(expected['Content-Security-Policy']).toContain("frame-ancestors 'none'");
    for (const [p, status] of [
      ['/', 200],
      ['/assets/app-TEST0001.js', 200],
      ['/config.json', 200],
      ['/missing.js', 404],
    ] as const) {
      const res = await fetch(`${app.url}${p}`);
      expect([p, res.status]).toEqual([p, status]);
      for (const [name, value] of Object.entries(expected)) expect([p, name, res.headers.get(name)]).toEqual([p, name, value]);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      // Plain HTTP: no HSTS.
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });

  test('another host name (a DNS-rebinding page) → 421 for the page, config.json and the API', async () => {
    const evil = `evil.example:${port}`;
    const requests: Array<[string, Parameters<typeof rawRequest>[1]]> = [
      ['/', {}],
      ['/config.json', {}],
      ['/prod/twilio/retrieve_capability_token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }],
      ['/prod/twilio/retrieve_twiml/call_incoming', { method: 'POST', headers: { 'Content-Type': FORM }, body: INCOMING_BODY }],
    ];
    for (const [p, opts] of requests) {
      const res = await raw(`${app.url}${p}`, { ...opts, headers: { ...opts?.headers, Host: evil } });
      expect([p, res.status]).toEqual([p, 421]);
      expect(res.body).not.toContain('apiBaseUrl');
      expect(res.body).not.toContain('evil.example');
    }
    // The port is part of the name: the loopback name on another port is not this app either.
    expect((await raw(`${app.url}/config.json`, { headers: { Host: `127.0.0.1:${Number(port) + 1}` } })).status).toBe(421);
  });

  test('127.0.0.1:<port> and localhost:<port> are served; config.json names the API at the name used', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const page = await raw(`${app.url}/`, { headers: { Host: host } });
      expect([host, page.status]).toEqual([host, 200]);
      const config = await raw(`${app.url}/config.json`, { headers: { Host: host } });
      expect(config.status).toBe(200);
      expect(JSON.parse(config.body)).toEqual({ apiBaseUrl: `http://${host}/prod` });
      const api = await raw(`${app.url}/prod/twilio/retrieve_capability_token`, {
        method: 'POST',
        headers: { Host: host, 'Content-Type': 'application/json' },
        body: '{}',
      });
      expect([host, api.status]).toEqual([host, 400]); // the token model's answer: it reached the API
    }
  });

  test('bound to another address (HOST=…), that address is served too; bound to all, every interface is', async () => {
    if (process.platform === 'linux') {
      const bound = await startLocalApp(options('registry-bound', { host: '127.0.0.2' }));
      try {
        const boundPort = new URL(bound.url).port;
        const config = await raw(`${bound.url}/config.json`, { headers: { Host: `127.0.0.2:${boundPort}` } });
        expect(config.status).toBe(200);
        expect(JSON.parse(config.body)).toEqual({ apiBaseUrl: `http://127.0.0.2:${boundPort}/prod` });
        expect((await raw(`${bound.url}/config.json`, { headers: { Host: `evil.example:${boundPort}` } })).status).toBe(421);
      } finally {
        await bound.close();
      }
    }
    const all = appHostNames(3000, undefined, '0.0.0.0');
    for (const address of Object.values(networkInterfaces()).flat()) {
      if (address?.family === 'IPv4') expect(all).toContain(`${address.address}:3000`);
    }
    expect(all).not.toContain('evil.example:3000');
    expect(appHostNames(3000, undefined, '127.0.0.1')).toEqual(new Set(['127.0.0.1:3000', 'localhost:3000', '[::1]:3000']));
  });

  test('with PUBLIC_BASE_URL (a tunnel) its host is served too, and config.json names PUBLIC_BASE_URL', async () => {
    const tunnel = await startLocalApp(
      options('registry-tunnel', { env: { POWERTOOLS_LOG_LEVEL: 'ERROR', PUBLIC_BASE_URL: 'https://abc.example.ngrok.app/prod' } }),
    );
    try {
      const config = await raw(`${tunnel.url}/config.json`, { headers: { Host: 'abc.example.ngrok.app' } });
      expect(config.status).toBe(200);
      expect(JSON.parse(config.body)).toEqual({ apiBaseUrl: 'https://abc.example.ngrok.app/prod' });
      expect((await raw(`${tunnel.url}/`, { headers: { Host: 'abc.example.ngrok.app' } })).status).toBe(200);
      const tunnelPort = new URL(tunnel.url).port;
      expect((await raw(`${tunnel.url}/config.json`, { headers: { Host: `evil.example:${tunnelPort}` } })).status).toBe(421);
      expect((await raw(`${tunnel.url}/config.json`, { headers: { Host: 'evil.example' } })).status).toBe(421);
    } finally {
      await tunnel.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('4. the fallback TwiML of the real client build', () => {
  let app: LocalApp;

  beforeAll(async () => {
    const clientDir = path.join(dir, 'client-build');
    await buildClient({ outdir: clientDir });
    app = await startLocalApp(options('registry-fallback', { clientDir }));
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  test('/fallback.xml is served as XML: a TwiML document telling the caller to try again later', async () => {
    const res = await fetch(`${app.url}/fallback.xml`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^(application|text)\/xml\b/);
    const body = await res.text();
    expect(isTwimlDocument(body)).toBe(true);
    expect(body).toBe(fallbackTwiml());
    expect(body).toContain(FALLBACK_MESSAGE);
    expect(body).toMatch(/try again later/i);
    expect(body).toMatch(/<Hangup\/><\/Response>\s*$/);
  });
});
