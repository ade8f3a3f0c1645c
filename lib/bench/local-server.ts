/**
 * The local app under load: requests/s and p99 latency per endpoint at concurrency 50 (autocannon), against
 * 127.0.0.1 only, with signed webhooks. The app runs in its own process (harness/local-app.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { generateDeviceSecret, hashDeviceSecret } from '../../lambda/core/device-secret';
import { threadPoolSize } from '../local/thread-pool';
import { FIXTURE, REPO_ROOT } from './lambdas';
import { median, quantile } from './stats';

/**
 * Distinct registered numbers for the token endpoint under load: 50 users signing in at once, not one number
 * hammered 50-fold in parallel (which the sign-in lockout refuses by design, as it should).
 */
export const TOKEN_LOAD_DEVICES = 64;

export function extraBenchDevices(count = TOKEN_LOAD_DEVICES): { number: string; clientName: string }[] {
  return Array.from({ length: count }, (_, i) => ({ number: `+81503123${4000 + i}`, clientName: `BenchDevice_${String(i).padStart(3, '0')}` }));
}

export interface RunningLocalApp {
  url: string;
  apiBaseUrl: string;
  close(): Promise<void>;
}

/** Starts the local app (fixture device registered, fake credentials) in a child process. */
export function startBenchLocalApp(opts: { registryPath: string; clientDir?: string }): Promise<RunningLocalApp> {
  const args = JSON.stringify({
    registryPath: opts.registryPath,
    clientDir: opts.clientDir,
    credentials: FIXTURE.credentials,
    device: { number: FIXTURE.phoneNumber, clientName: FIXTURE.clientName, secret: FIXTURE.deviceSecret },
    extraDevices: extraBenchDevices(),
    env: {
      ALLOWED_DESTINATION_COUNTRIES: 'JP',
      TOKEN_TTL_SECONDS: '3600',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_SERVICE_NAME: 'twilio-softphone-bench',
    },
  });
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'harness', 'local-app.ts'), args], {
    cwd: REPO_ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'INFO' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the local app exited (${code}) before listening: ${stderr.trim()}`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.once('message', (m: { url?: string; apiBaseUrl?: string; error?: string }) => {
      if (!m.url || !m.apiBaseUrl) return reject(new Error(`the local app failed to start: ${m.error ?? JSON.stringify(m)}`));
      child.off('exit', onExit);
      resolve({
        url: m.url,
        apiBaseUrl: m.apiBaseUrl,
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
            child.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            child.send('close');
          }),
      });
    });
  });
}

export interface LoadRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Rewrites the request before each send (autocannon's setupRequest). */
  setupRequest?: (req: { body?: string }) => { body?: string };
}

/** The three API requests, as a browser and Twilio send them (webhooks signed with the fixture's Auth Token). */
export function benchRequests(apiBaseUrl: string): Record<'token' | 'callIncoming' | 'callOutgoing', LoadRequest> {
  const base = new URL(apiBaseUrl);
  const stagePath = base.pathname.replace(/\/$/, '');
  const webhook = (resource: string, params: Record<string, string>): LoadRequest => {
    const pathname = `${stagePath}${resource}`;
    const signature = getExpectedTwilioSignature(FIXTURE.credentials.authToken, `${base.origin}${pathname}`, params);
    return {
      method: 'POST',
      path: pathname,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams(params).toString(),
    };
  };
  const common = {
    AccountSid: FIXTURE.credentials.accountSid,
    ApiVersion: '2010-04-01',
    CallSid: 'CA0123456789abcdef0123456789abcdef',
    CallStatus: 'ringing',
    Direction: 'inbound',
  };
  const tokenBody = (number: string) => JSON.stringify({ twilioPhoneNumber: number, deviceSecret: FIXTURE.deviceSecret });
  const numbers = extraBenchDevices().map((d) => d.number);
  let next = 0;
  return {
    token: {
      method: 'POST',
      path: `${stagePath}/twilio/retrieve_capability_token`,
      headers: { 'content-type': 'application/json', origin: base.origin },
      body: tokenBody(FIXTURE.humanPhoneNumber),
      // Round robin over the registered numbers: the requests in flight are for distinct numbers.
      setupRequest: (req) => ({ ...req, body: tokenBody(numbers[next++ % numbers.length]) }),
    },
    callIncoming: webhook('/twilio/retrieve_twiml/call_incoming', {
      ...common,
      From: '+14155550100',
      Caller: '+14155550100',
      To: FIXTURE.phoneNumber,
      Called: FIXTURE.phoneNumber,
    }),
    callOutgoing: webhook('/twilio/retrieve_twiml/call_outgoing', {
      ...common,
      ApplicationSid: FIXTURE.credentials.twimlAppSid,
      From: `client:${FIXTURE.clientName}`,
      Caller: `client:${FIXTURE.clientName}`,
      To: '',
      Called: '',
      callOutgoingPhoneNumber: FIXTURE.destination,
      callerPhoneNumber: FIXTURE.phoneNumber,
    }),
  };
}

/** What each request must be answered with for its load figures to mean that path (status 200 and this body). */
const EXPECTED: Record<keyof ReturnType<typeof benchRequests>, { what: string; ok: (body: string) => boolean }> = {
  token: {
    what: 'an Access Token for the fixture device',
    ok: (body) => {
      const json = JSON.parse(body) as { success?: unknown; capabilityToken?: unknown; identity?: unknown };
      return json.success === true && typeof json.capabilityToken === 'string' && json.identity === FIXTURE.clientName;
    },
  },
  callIncoming: {
    what: 'a <Dial> ringing the line’s device',
    // (each `<Client>` carries its leg's status callback to the call log)
    ok: (body) => body.includes('<Dial') && new RegExp(`<Client[^>]*><Identity>${FIXTURE.clientName}</Identity>`).test(body),
  },
  callOutgoing: {
    what: 'a <Dial> of the number from the line',
    // (the `<Number>` carries its leg's status callback; every request is the same call, which keeps its place)
    ok: (body) => /<Number[^>]*>\+819059876543<\/Number>/.test(body) && body.includes(`callerId="${FIXTURE.phoneNumber}"`),
  },
};

/**
 * Sends each request once and checks its answer: a load test of refusals (a 403 for a bad signature, a TwiML
 * apology for an unknown line) would measure nothing. 127.0.0.1 only.
 */
export async function checkBenchRequests(url: string, requests: ReturnType<typeof benchRequests>): Promise<void> {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error('the benchmark targets 127.0.0.1 only');
  for (const [id, expected] of Object.entries(EXPECTED) as [keyof typeof EXPECTED, (typeof EXPECTED)[keyof typeof EXPECTED]][]) {
    const req = requests[id];
    const res = await fetch(new URL(req.path, url), { method: req.method, headers: req.headers, body: req.body });
    const body = await res.text();
    let ok = false;
    try {
      ok = res.status === 200 && expected.ok(body);
    } catch {
      ok = false;
    }
    if (!ok) throw new Error(`${id} did not answer ${expected.what}: ${res.status} ${body.slice(0, 500)}`);
  }
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers completed in the measured window. */
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** HTTP status → count. */
  statusCodes: Record<string, number>;
  /** Seconds of load before the measured window (their answers are not counted). */
  warmupSeconds: number;
  /** The measured window, seconds. */
  windowSeconds: number;
}

/** What autocannon's instance emits, as used here (it ships no type declarations). */
interface AutocannonInstance extends PromiseLike<unknown> {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
  on(event: 'reqError', listener: (error: Error) => void): void;
}
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => AutocannonInstance;

/**
 * Waits until the app answers `probe` quickly twice in a row: a load run leaves work behind (the token
 * endpoint's queued hashes occupy libuv's thread pool, which the embedded registry's disk I/O also needs),
 * and the next run must not inherit it.
 */
export async function waitForIdle(url: string, probe: LoadRequest, opts: { fastMs?: number; timeoutMs?: number } = {}): Promise<void> {
  const fastMs = opts.fastMs ?? 100;
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let fast = 0;
  while (fast < 2 && Date.now() < deadline) {
    const t0 = performance.now();
    const res = await fetch(new URL(probe.path, url), { method: probe.method, headers: probe.headers, body: probe.body });
    await res.arrayBuffer();
    fast = performance.now() - t0 < fastMs ? fast + 1 : 0;
    if (fast < 2) await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * One bounded autocannon run against 127.0.0.1 (the URL is checked), cycling through `requests`: `warmupSeconds`
 * of load, then `durationSeconds` measured. Only answers completed in the measured window count, so the figures
 * are the app's steady state: not its JIT warming up, and (for the token endpoint, whose answers take seconds at
 * 50 connections) not a queue still filling.
 */
export async function loadTest(
  url: string,
  requests: readonly LoadRequest[],
  opts: { connections: number; durationSeconds: number; warmupSeconds?: number },
): Promise<LoadResult> {
  const { hostname } = new URL(url);
  if (hostname !== '127.0.0.1') throw new Error(`refusing to load-test ${hostname}: the benchmark targets 127.0.0.1 only`);
  const warmupSeconds = opts.warmupSeconds ?? 0;
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  const started = performance.now();
  const windowStart = started + warmupSeconds * 1000;
  const windowEnd = windowStart + opts.durationSeconds * 1000;
  const inWindow = () => {
    const now = performance.now();
    return now >= windowStart && now <= windowEnd;
  };
  const instance = autocannon({
    url,
    connections: opts.connections,
    duration: warmupSeconds + opts.durationSeconds,
    timeout: 30,
    requests: requests.map((r) => ({
      method: r.method,
      path: r.path,
      headers: r.headers,
      body: r.body,
      ...(r.setupRequest ? { setupRequest: r.setupRequest } : {}),
    })),
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (!inWindow()) return;
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    latencies.push(responseTime);
  });
  instance.on('reqError', (error) => {
    if (!inWindow()) return;
    errors++;
    if (/timed out/.test(error.message)) timeouts++;
  });
  await instance;
  const windowSeconds = (Math.min(performance.now(), windowEnd) - windowStart) / 1000;
  return {
    requestsPerSecond: latencies.length / Math.max(windowSeconds, 0.001),
    p50Ms: latencies.length ? quantile(latencies, 0.5) : 0,
    p99Ms: latencies.length ? quantile(latencies, 0.99) : 0,
    requests: latencies.length,
    non2xx: Object.entries(statusCodes)
      .filter(([code]) => !code.startsWith('2'))
      .reduce((n, [, count]) => n + count, 0),
    errors,
    timeouts,
    statusCodes,
    warmupSeconds,
    windowSeconds,
  };
}

/** What bounds the token endpoint: the device-secret hash (scrypt at the production cost) on this machine. */
export interface HashBound {
  /** One hash alone, median, ms. */
  hashMs: number;
  cpus: number;
  /** libuv's thread pool, where node:crypto runs scrypt (UV_THREADPOOL_SIZE, default 4). */
  threadPool: number;
  /** min(cpus, threadPool) ÷ one hash: the most sign-ins per second the hash allows. */
  perSecond: number;
  /** Hashes per second measured with the thread pool kept full (what the machine really gives). */
  measuredPerSecond: number;
}

/** Measures the device-secret hash as the token handler computes it (in this process; the same machine). */
export async function measureHashBound(opts: { lone?: number; parallel?: number } = {}): Promise<HashBound> {
  const secret = generateDeviceSecret();
  const lone: number[] = [];
  for (let i = 0; i < (opts.lone ?? 5); i++) {
    const t0 = performance.now();
    await hashDeviceSecret(secret);
    lone.push(performance.now() - t0);
  }
  const cpus = os.availableParallelism();
  const threadPool = threadPoolSize();
  const parallel = opts.parallel ?? 4 * threadPool;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: parallel }, () => hashDeviceSecret(secret)));
  const hashMs = median(lone);
  return {
    hashMs,
    cpus,
    threadPool,
    perSecond: (Math.min(cpus, threadPool) * 1000) / hashMs,
    measuredPerSecond: (parallel * 1000) / (performance.now() - t0),
  };
}

/** A hostile form body (security issue 13): 400,000 parameters in 1.2 MB, 3,844 distinct two-character names. */
export function hostileFormBody(parameters = 400_000): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const names = [...chars].flatMap((a) => [...chars].map((b) => a + b));
  return Array.from({ length: parameters }, (_, i) => names[i % names.length]).join('&');
}

export interface HostileBodyResult {
  bodyBytes: number;
  /** How long the hostile request took to be refused, and with what. */
  hostileMs: number;
  hostileStatus: number;
  /** A signed incoming webhook alone (median of `baselineSamples`). */
  baselineMs: number;
  /** Signed incoming webhooks sent one after another while the hostile body was in flight. */
  duringMs: number[];
  /** The worst of them minus the baseline: what the hostile body cost a real webhook. */
  worstDelayMs: number;
}

/**
 * What one hostile body costs a concurrent signed webhook: the webhook's latency while a 1.2 MB body of
 * 400,000 parameters is being refused, against its latency alone. 127.0.0.1 only.
 */
export async function hostileBodyDelay(url: string, webhook: LoadRequest, baselineSamples = 20): Promise<HostileBodyResult> {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error('the benchmark targets 127.0.0.1 only');
  const target = new URL(webhook.path, url);
  const timed = async (req: { headers: Record<string, string>; body: string }): Promise<{ ms: number; status: number }> => {
    const t0 = performance.now();
    const res = await fetch(target, { method: 'POST', headers: req.headers, body: req.body });
    await res.arrayBuffer();
    return { ms: performance.now() - t0, status: res.status };
  };
  const baseline: number[] = [];
  for (let i = 0; i < baselineSamples; i++) baseline.push((await timed(webhook)).ms);
  baseline.sort((a, b) => a - b);
  const body = hostileFormBody();
  let hostileDone = false;
  const hostile = timed({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }).finally(() => {
    hostileDone = true;
  });
  const duringMs: number[] = [];
  while (!hostileDone) {
    const { ms, status } = await timed(webhook);
    if (status !== 200) throw new Error(`a signed webhook got ${status} while the hostile body was in flight`);
    duringMs.push(ms);
  }
  const refused = await hostile;
  const baselineMs = baseline[Math.floor(baseline.length / 2)];
  return {
    bodyBytes: Buffer.byteLength(body),
    hostileMs: refused.ms,
    hostileStatus: refused.status,
    baselineMs,
    duringMs,
    worstDelayMs: Math.max(0, ...duringMs) - baselineMs,
  };
}
