/**
 * The attack on the local registry, for real, in Debian's Chromium: while the local app runs, a page on another
 * origin (any site the user visits; here a tiny node:http server on 127.0.0.1 with another port) calls the
 * embedded dynalite's DynamoDB API with `fetch`: Scan the registry table (every line's members with their secret
 * hashes) and PutItem (replace a member's hash with one of the attacker's secret), with CORS and with `mode: 'no-cors'`, signed with
 * a made-up signature (dynalite by itself checks only its format, and answered every origin with
 * `Access-Control-Allow-Origin: *`: before round 2 this page read every hash and replaced one).
 * The registry refuses every browser request (lib/local/registry-server.ts, `guardRequests`), so the page reads
 * nothing, the device's hash is unchanged (read with the app's own key pair), its owner still signs in through
 * the token API, and the attacker's secret does not. test/local/security.test.ts checks the same guard over
 * plain HTTP.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { hashDeviceSecret } from '../../lambda/core/device-secret';
import { addDevice } from '../../lib/devices/device-admin';
import { startLocalApp, type LocalApp } from '../../lib/local/app';
import { memberKey } from '../../lambda/adapters/registry-schema';
import { LOCAL_REGISTRY_TABLE } from '../../lib/local/registry-server';
import { DEVICE_CLIENT, DEVICE_NUMBER, launchChromium, TEST_CREDENTIALS } from '../support/fixtures';
import { writeSite } from '../local/helpers';

/** What the attacker's page saw of one request. */
interface Attempt {
  name: string;
  error?: string;
  type?: string;
  status?: number;
  text?: string;
}

const ATTACKER_SECRET = 'attacker-chosen-secret-0001';

/** A registry key as DynamoDB's wire format spells it (`{"pk":{"S":"LINE#+81…"},…}`). */
const attributeValues = (key: Record<string, string>) => Object.fromEntries(Object.entries(key).map(([k, v]) => [k, { S: v }]));

/**
 * The attacker's page: runs every attempt against the registry endpoint and leaves what it could see in
 * `window.__attack`.
 */
function attackPage(endpoint: string, table: string, number: string, clientName: string, attackerHash: string): string {
  // The member's own item (the registry's key schema), with the attacker's hash.
  const item = { ...attributeValues(memberKey(number, clientName)), clientName: { S: clientName }, secretHash: { S: attackerHash } };
  const script = `
(async () => {
  const endpoint = ${JSON.stringify(endpoint)};
  const scan = JSON.stringify({ TableName: ${JSON.stringify(table)} });
  const put = JSON.stringify({ TableName: ${JSON.stringify(table)}, Item: ${JSON.stringify(item)} });
  // A made-up signature in the right format: a server that checks only the format takes it.
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/.d{3}/, '');
  const amz = (target) => ({
    'Content-Type': 'application/x-amz-json-1.0',
    'X-Amz-Target': 'DynamoDB_20120810.' + target,
    'X-Amz-Date': amzDate,
    Authorization: 'AWS4-HMAC-SHA256 Credential=attacker/' + amzDate.slice(0, 8) + '/local/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=' + '0'.repeat(64),
  });
  const attempts = [
    ['Scan', { method: 'POST', headers: amz('Scan'), body: scan }],
    ['Scan no-cors', { method: 'POST', mode: 'no-cors', headers: amz('Scan'), body: scan }],
    ['Scan as a simple request', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: scan }],
    ['PutItem', { method: 'POST', headers: amz('PutItem'), body: put }],
    ['PutItem no-cors', { method: 'POST', mode: 'no-cors', headers: amz('PutItem'), body: put }],
    ['PutItem as a simple request', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: put }],
  ];
  const results = [];
  for (const [name, init] of attempts) {
    try {
      const res = await fetch(endpoint, init);
      results.push({ name, type: res.type, status: res.status, text: await res.text() });
    } catch (err) {
      results.push({ name, error: String(err) });
    }
  }
  window.__attack = results;
})();`;
  return `<!doctype html><meta charset="utf-8"><title>Totally unrelated site</title><script>${script}</script>`;
}

let dir: string;
let app: LocalApp;
let registry: DynamoDBClient;
let attacker: Server;
let attackerOrigin: string;
let browser: Browser;
let page: Page;
let secret: string;
let originalHash: string;

const storedHash = async (): Promise<string | undefined> =>
  (
    await registry.send(
      new GetItemCommand({
        TableName: LOCAL_REGISTRY_TABLE,
        Key: attributeValues(memberKey(DEVICE_NUMBER, DEVICE_CLIENT)),
        ConsistentRead: true,
      }),
    )
  ).Item?.secretHash?.S;

const signIn = (deviceSecret: string) =>
  fetch(app.routeUrls.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret }),
  });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-registry-isolation-'));
  await writeSite(path.join(dir, 'site'));
  app = await startLocalApp({
    port: 0,
    registryPath: path.join(dir, 'registry'),
    credentials: TEST_CREDENTIALS,
    clientDir: path.join(dir, 'site'),
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    log: () => undefined,
  });
  ({ secret } = await addDevice(app.lines, { number: DEVICE_NUMBER, clientName: DEVICE_CLIENT }));
  registry = new DynamoDBClient({ endpoint: app.registry.endpoint, region: app.registry.region, credentials: app.registry.credentials });
  originalHash = (await storedHash())!;

  const html = attackPage(app.registry.endpoint, LOCAL_REGISTRY_TABLE, DEVICE_NUMBER, DEVICE_CLIENT, await hashDeviceSecret(ATTACKER_SECRET));
  attacker = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;

  browser = await launchChromium();
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  registry?.destroy();
  await app?.close();
  if (attacker) {
    attacker.closeAllConnections();
    await new Promise<void>((resolve) => attacker.close(() => resolve()));
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a page on another origin attacks the local registry in Chromium', () => {
  it('can neither read the devices nor replace a secret hash', async () => {
    expect(originalHash).toMatch(/^scrypt/);
    expect(new URL(attackerOrigin).port).not.toBe(new URL(app.registry.endpoint).port);
    expect(new URL(attackerOrigin).port).not.toBe(new URL(app.url).port);

    await page.goto(`${attackerOrigin}/`);
    await page.waitForFunction(() => (window as unknown as { __attack?: unknown }).__attack !== undefined, undefined, { timeout: 60_000 });
    const attempts = await page.evaluate(() => (window as unknown as { __attack: Attempt[] }).__attack);

    expect(attempts.map((a) => a.name)).toHaveLength(6);
    for (const a of attempts) {
      if (a.name.includes('no-cors')) {
        // An opaque answer: no status, no body.
        expect(a).toEqual({ name: a.name, type: 'opaque', status: 0, text: '' });
      } else {
        // CORS refused the answer (no Access-Control-Allow-Origin): fetch rejects, nothing is readable.
        expect(a).toEqual({ name: a.name, error: expect.stringMatching(/^TypeError/) });
      }
    }
    const seen = JSON.stringify(attempts);
    expect(seen).not.toContain('secretHash');
    expect(seen).not.toContain(originalHash);
    expect(seen).not.toContain(DEVICE_CLIENT);

    // The registry, read with the app's own key pair: the hash is the device's own.
    expect(await storedHash()).toBe(originalHash);
    // The owner still signs in through the app's token API; the attacker's secret does not.
    const owner = await signIn(secret);
    expect(owner.status).toBe(200);
    expect(await owner.json()).toMatchObject({ success: true, identity: DEVICE_CLIENT });
    expect((await signIn(ATTACKER_SECRET)).status).toBe(403);
  }, 90_000);
});
