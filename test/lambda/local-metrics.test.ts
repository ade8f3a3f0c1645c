/**
 * The new routes and the metrics through the local app over HTTP (the same handlers, behind the local API
 * Gateway): the token API's preflight purpose passes the request model, the Debugger and preflight webhooks
 * answer signed requests, and what the handlers counted is summed by the app (`app.metrics`) and, at DEBUG,
 * logged one datum per line, as EMF would carry it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { type LocalApp, startLocalApp } from '../../lib/local/app';
import type { RouteId } from '../../lib/api/routes';
import { DEVICE_CLIENT, DEVICE_NUMBER, DEVICE_SECRET, FORM, TEST_CREDENTIALS } from '../support/fixtures';
import { writeMinimalSite } from '../support/lines';
import { registerDevice } from './helpers';

const PREFLIGHT_APP = 'AP99990123456789abcdef0123456789ab';
let dir: string;
let app: LocalApp;
const logged: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-local-metrics-'));
  app = await startLocalApp({
    port: 0,
    registryPath: path.join(dir, 'registry'),
    credentials: { ...TEST_CREDENTIALS, preflightTwimlAppSid: PREFLIGHT_APP },
    clientDir: await writeMinimalSite(path.join(dir, 'site')),
    env: { POWERTOOLS_LOG_LEVEL: 'DEBUG' },
    log: (line) => logged.push(line),
  });
  await registerDevice(app.lines);
}, 120_000);

afterAll(async () => {
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** POSTs a webhook to the app as Twilio does: a form, signed with the Auth Token for the URL called. */
function webhook(route: RouteId, params: Record<string, string>, authToken = TEST_CREDENTIALS.authToken): Promise<Response> {
  const url = app.routeUrls[route];
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': FORM, 'X-Twilio-Signature': getExpectedTwilioSignature(authToken, url, params) },
    body: new URLSearchParams(params).toString(),
  });
}

test('a preflight token over HTTP: the model takes the purpose, the answer says it', async () => {
  const res = await fetch(app.routeUrls.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET, purpose: 'preflight' }),
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ success: true, identity: DEVICE_CLIENT, purpose: 'preflight' });
  const bad = await fetch(app.routeUrls.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: DEVICE_SECRET, purpose: 'recording' }),
  });
  expect(bad.status).toBe(400);
  expect(await bad.json()).toEqual({ success: false, capabilityToken: null, error: 'purpose must be one of call, preflight.' });
});

test('the preflight and Debugger webhooks over HTTP, and what was counted', async () => {
  const preflight = await webhook('preflight', {
    AccountSid: TEST_CREDENTIALS.accountSid,
    From: `client:${DEVICE_CLIENT}`,
    CallSid: 'CA0123456789abcdef0123456789abcdef',
  });
  expect(preflight.status).toBe(200);
  expect(await preflight.text()).toMatch(/<Pause length="\d+"\/><Hangup\/><\/Response>$/);

  const alert = await webhook('twilioDebugger', {
    AccountSid: TEST_CREDENTIALS.accountSid,
    Sid: 'NO0123456789abcdef0123456789abcdef',
    Level: 'WARNING',
    PayloadType: 'application/json',
    Payload: JSON.stringify({ error_code: '15003', resource_sid: 'CA0123456789abcdef0123456789abcdef' }),
  });
  expect(alert.status).toBe(200);
  expect(await alert.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  const forged = await webhook('twilioDebugger', { AccountSid: TEST_CREDENTIALS.accountSid, Level: 'ERROR', Payload: '{}' }, 'forged-token');
  expect(forged.status).toBe(403);

  const totals = app.metrics.totals();
  expect(totals).toMatchObject({ SignIn: { ok: 1, invalid: 1 }, TwilioAlerts: { warning: 1 }, SignatureRejected: { '-': 1 } });
  // each datum is a DEBUG line with its full dimension set
  const lines = logged.filter((l) => l.includes('"message":"metric"')).map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines).toContainEqual(
    expect.objectContaining({
      level: 'DEBUG',
      metric: 'TwilioAlerts',
      unit: 'Count',
      value: 1,
      dimensions: { service: 'twilio-softphone', Level: 'warning' },
    }),
  );
  expect(lines).toContainEqual(
    expect.objectContaining({
      metric: 'HandlerLatency',
      unit: 'Milliseconds',
      dimensions: { service: 'twilio-softphone', Function: 'twilioDebugger' },
    }),
  );
  expect(logged.join('\n')).not.toContain(DEVICE_SECRET);
});
