/**
 * Load (issue 7): a burst of signed webhooks against the local app (the same gateway pipeline, handlers and
 * DynamoDB protocol as production) — no error, no timeout, no non-2xx, every answer the expected TwiML, and the
 * heap after the burst within a bound of the heap before it (no leak per request). Nothing here is about time:
 * throughput and latency are `npm run bench`'s business.
 *
 * Two sizes, chosen by SOFTPHONE_LOAD_TEST:
 * - unset (`npm test`): 200 webhooks at concurrency 10 after a 50-request warm-up, heap bound 10 MB; a few
 *   seconds even while another CPU-heavy job runs;
 * - `full` (`npm run test:load`): 3000 webhooks at concurrency 50 after a 500-request warm-up, heap bound 20 MB.
 * SOAK_REQUESTS, SOAK_CONNECTIONS and SOAK_HEAP_GROWTH_MB override the size and the heap bound.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { addDevice } from '../../lib/devices/device-admin';
import { startLocalApp, type LocalApp } from '../../lib/local/app';
import { signWebhook } from '../../lib/local/sign';
import {
  DEVICE_CLIENT,
  DEVICE_NUMBER,
  FORM,
  INCOMING_BODY,
  incomingTwiml,
  OUTGOING_BODY,
  outgoingTwiml,
  TEST_CREDENTIALS,
} from '../support/fixtures';
import { writeSite } from './helpers';

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
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const FULL = process.env.SOFTPHONE_LOAD_TEST === 'full';
const REQUESTS = Number(process.env.SOAK_REQUESTS ?? (FULL ? 3000 : 200));
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? (FULL ? 50 : 10));
const WARM_UP = FULL ? 500 : 50;
const HEAP_GROWTH_MB = Number(process.env.SOAK_HEAP_GROWTH_MB ?? (FULL ? 20 : 10));

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
  await addDevice(app.lines, { number: DEVICE_NUMBER, clientName: DEVICE_CLIENT });
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
  await burst(WARM_UP); // warm-up: JIT, connection pools, LevelDB caches
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
  expect([...bodies.keys()].sort()).toEqual([`200 ${incomingTwiml(app.apiBaseUrl)}`, `200 ${outgoingTwiml(app.apiBaseUrl)}`].sort());
  expect(growthMb).toBeLessThan(HEAP_GROWTH_MB);
}, 120_000);
