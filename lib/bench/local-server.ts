/**
 * The local app under load: requests/s and p99 latency per endpoint at concurrency 50 (autocannon), against
 * 127.0.0.1 only, with signed webhooks. The app runs in its own process (harness/local-app.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { FIXTURE, REPO_ROOT } from './lambdas';

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
    env: { ALLOWED_DESTINATION_COUNTRIES: 'JP', TOKEN_TTL_SECONDS: '3600', POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_SERVICE_NAME: 'twilio-softphone-bench' },
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
  return {
    token: {
      method: 'POST',
      path: `${stagePath}/twilio/retrieve_capability_token`,
      headers: { 'content-type': 'application/json', origin: base.origin },
      body: JSON.stringify({ twilioPhoneNumber: FIXTURE.humanPhoneNumber, deviceSecret: FIXTURE.deviceSecret }),
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

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  latency: { p50: number; p99: number };
  requests: { total: number };
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon ships no type declarations; this is the slice of its API used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

/** One bounded autocannon run against 127.0.0.1 (the URL is checked), cycling through `requests`. */
export async function loadTest(url: string, requests: readonly LoadRequest[], opts: { connections: number; durationSeconds: number }): Promise<LoadResult> {
  const { hostname } = new URL(url);
  if (hostname !== '127.0.0.1') throw new Error(`refusing to load-test ${hostname}: the benchmark targets 127.0.0.1 only`);
  const result = await autocannon({
    url,
    connections: opts.connections,
    duration: opts.durationSeconds,
    timeout: 30,
    requests: requests.map((r) => ({ method: r.method, path: r.path, headers: r.headers, body: r.body })),
  });
  return {
    requestsPerSecond: result.requests.total / Math.max(result.duration, 0.001),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
