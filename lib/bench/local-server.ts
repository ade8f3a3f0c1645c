/**
 * The local app under load: requests/s and p99 latency per endpoint at concurrency 50 (autocannon), against
 * 127.0.0.1 only, with signed webhooks. The app runs in its own process (harness/local-app.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { FIXTURE, REPO_ROOT } from './lambdas';

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
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** HTTP status → count. */
  statusCodes: Record<string, number>;
}

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
  latency: { p50: number; p99: number };
  requests: { total: number };
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon ships no type declarations; this is the slice of its API used here.
const autocannon = require('autocannon') as Autocannon;

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

/** One bounded autocannon run against 127.0.0.1 (the URL is checked), cycling through `requests`. */
export async function loadTest(
  url: string,
  requests: readonly LoadRequest[],
  opts: { connections: number; durationSeconds: number },
): Promise<LoadResult> {
  const { hostname } = new URL(url);
  if (hostname !== '127.0.0.1') throw new Error(`refusing to load-test ${hostname}: the benchmark targets 127.0.0.1 only`);
  const result = await autocannon({
    url,
    connections: opts.connections,
    duration: opts.durationSeconds,
    timeout: 30,
    requests: requests.map((r) => ({
      method: r.method,
      path: r.path,
      headers: r.headers,
      body: r.body,
      ...(r.setupRequest ? { setupRequest: r.setupRequest } : {}),
    })),
  });
  return {
    requestsPerSecond: result.requests.total / Math.max(result.duration, 0.001),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count])),
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
