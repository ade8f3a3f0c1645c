/**
 * Load (issue 7): a burst of thousands of signed webhooks at concurrency 50 against the local app (the same
 * gateway pipeline, handlers and DynamoDB protocol as production) — no error, no non-2xx, every answer the
 * expected TwiML, and the heap after the burst within a bound of the heap before it (no leak per request).
 *
 * SOAK_REQUESTS (default 3000) and SOAK_HEAP_GROWTH_MB (default 20) tune it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { addDevice } from '../../lib/devices/device-admin';
import { startLocalApp, type LocalApp } from '../../lib/local/app';
import { signWebhook } from '../../lib/local/sign';
import { CLIENT_NAME, FORM, INCOMING_BODY, INCOMING_TWIML, OUTGOING_BODY, OUTGOING_TWIML, TEST_CREDENTIALS, writeSite } from './helpers';

interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  '2xx': number;
  requests: { total: number; average: number };
  latency: { p99: number; average: number };
  duration: number;
}
interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 3000);
const HEAP_GROWTH_MB = Number(process.env.SOAK_HEAP_GROWTH_MB ?? 20);
const CONNECTIONS = 50;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const settledHeap = async (): Promise<number> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
};

let dir: string;
let app: LocalApp;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-soak-'));
  await writeSite(path.join(dir, 'site'));
  app = await startLocalApp({
    port: 0,
    registryPath: path.join(dir, 'registry'),
    credentials: TEST_CREDENTIALS,
    clientDir: path.join(dir, 'site'),
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    log: () => undefined,
  });
  await addDevice(app.devices, { number: '+815031234567', clientName: CLIENT_NAME });
});
afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

function requests(): AutocannonRequest[] {
  return [
    [app.routeUrls.callIncoming, INCOMING_BODY],
    [app.routeUrls.callOutgoing, OUTGOING_BODY],
  ].map(([url, body]) => ({
    method: 'POST',
    path: new URL(url).pathname,
    headers: { 'content-type': FORM, 'x-twilio-signature': signWebhook(TEST_CREDENTIALS.authToken, url, body) },
    body,
  }));
}

async function burst(amount: number): Promise<{ result: AutocannonResult; bodies: Map<string, number> }> {
  const bodies = new Map<string, number>();
  const result = await autocannon({
    url: app.url,
    connections: CONNECTIONS,
    amount,
    timeout: 10,
    requests: requests().map((r) => ({
      ...r,
      onResponse: (status: number, body: string) => {
        const key = `${status} ${body}`;
        bodies.set(key, (bodies.get(key) ?? 0) + 1);
      },
    })),
  });
  return { result, bodies };
}

test(`a burst of ${REQUESTS} signed webhooks at concurrency ${CONNECTIONS}: no error, right answers, bounded heap`, async () => {
  await burst(500); // warm-up: JIT, connection pools, LevelDB caches
  const before = await settledHeap();
  const { result, bodies } = await burst(REQUESTS);
  const after = await settledHeap();
  const growthMb = (after - before) / 1024 / 1024;
  // Throughput and latency are measured by `npm run bench`; this test proves correctness under load.

  expect(result.errors).toBe(0);
  expect(result.timeouts).toBe(0);
  expect(result.non2xx).toBe(0);
  expect(result['2xx']).toBeGreaterThanOrEqual(REQUESTS);
  // Every answer is one of the two expected TwiML documents.
  expect([...bodies.keys()].sort()).toEqual([`200 ${INCOMING_TWIML}`, `200 ${OUTGOING_TWIML}`].sort());
  expect(growthMb).toBeLessThan(HEAP_GROWTH_MB);
}, 120_000);
