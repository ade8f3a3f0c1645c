/**
 * Recent calls on the page, in Debian's Chromium, against the REAL local app serving the page (as `npm start` does):
 * the list is the line's call log, which the app builds from Twilio's status callbacks. The calls are made the way
 * Twilio reports them: signed status callbacks posted to the exact URLs the API's TwiML names (`<Client
 * statusCallback>`, `<Number statusCallback>`) and to the parent call's callback (`/twilio/call_status`, no query),
 * in RFC 2822 Timestamps with SequenceNumbers. The browser's Voice SDK Device is the test double
 * (`client/src/voice/fake-device.ts`), so "Call back" is checked by what the page dialled.
 *
 * The line +81 50-3123-4567 has two devices, Alice and Bob; the page signs in as Bob. It is built to poll every
 * 300 ms instead of 30 s, so new calls show up within the tests' waits.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page, Request, Response } from 'playwright-core';
import { buildClient } from '../../client/build';
import { addDevice, setLine } from '../../lib/devices/device-admin';
import { startLocalApp, type LocalApp } from '../../lib/local/app';
import { DEVICE_NUMBER, launchChromium, TEST_CREDENTIALS, type SoftphoneTestControl } from '../support/fixtures';
import { childElement, childElements, postWebhook, TwilioCall, textOf, twilioSid as sid, type XmlElement } from '../support/lines';

const LINE = DEVICE_NUMBER; // +815031234567
const ANSWERED_CALLER = '+819059876543';
const ANSWERED_SHOWN = '090-5987-6543';
const MISSED_CALLER = '+819011112222';
const MISSED_SHOWN = '090-1111-2222';
const DIALLED = '+819033334444';
const DIALLED_SHOWN = '090-3333-4444';
/** Older calls, so that the list has a second page (the API's page is 20 calls). */
const OLDER_CALLS = 18;
const POLL_MS = 300;
/** Generous waits: the tests wait for conditions, never for a time, and must pass on a loaded machine. */
const WAIT = { timeout: 20_000 };
jest.setTimeout(180_000);

const { accountSid, authToken } = TEST_CREDENTIALS;
let dir: string;
let app: LocalApp;
let browser: Browser;
let page: Page;
const secrets: Record<string, string> = {};
const pageErrors: string[] = [];
const pageApiCalls: Array<{ path: string; body: Record<string, unknown>; status?: number }> = [];
/** Console errors the browser logs for answers a test provokes on purpose (`Failed to load resource: … 503`). */
let expectedStatuses: number[] = [];

const control = () => page.evaluate(() => (window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest);
const recentItems = () => page.locator('#recent-list > li');
const entry = (callSid: string) => page.locator(`#recent-list > li[data-call-sid="${callSid}"]`);
const announced = (text: string) => page.waitForFunction((t) => document.getElementById('announcer')?.textContent === t, text, WAIT);
const callLogLists = () => pageApiCalls.filter((c) => c.path === '/softphone/calls' && c.body.action === 'list');

/** Resolves once `check` is true (checked every 50 ms), or fails after `timeout` ms saying what was awaited. */
async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeout = WAIT.timeout): Promise<void> {
  const until = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Twilio's status callbacks

/** Twilio's Timestamp: RFC 2822 (`Mon, 16 Aug 2010 03:45:01 +0000`). */
const rfc2822 = (ms: number) => new Date(ms).toUTCString().replace('GMT', '+0000');
/** What the log makes of that Timestamp: whole seconds. */
const isoOf = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

/** Posts one signed status callback to `url` (Twilio ignores the body; the app answers 200 with empty TwiML). */
async function statusCallback(url: string, params: Record<string, string>): Promise<void> {
  const answer = await postWebhook(url, { AccountSid: accountSid, ApiVersion: '2010-04-01', ...params }, authToken);
  expect(answer.status).toBe(200);
}

/** A leg's progress: each status with its Timestamp, numbered as Twilio numbers a leg's callbacks. */
async function legProgress(url: string, leg: Record<string, string>, steps: Array<{ status: string; at: number; duration?: number }>): Promise<void> {
  for (const [i, step] of steps.entries()) {
    await statusCallback(url, {
      ...leg,
      CallStatus: step.status,
      Timestamp: rfc2822(step.at),
      SequenceNumber: String(i),
      ...(step.duration !== undefined ? { CallDuration: String(step.duration) } : {}),
    });
  }
}

/** The `<Client>`s the TwiML rings, with where each leg reports its progress. */
function ringingClients(twiml: XmlElement): Array<{ identity: string; statusCallback: string }> {
  return childElements(childElement(twiml, 'Dial'), 'Client').map((c) => ({
    identity: textOf(childElement(c, 'Identity')),
    statusCallback: c.attrs.statusCallback,
  }));
}

/**
 * A caller rings the line at `at`: the incoming-call webhook rings every member; `answeredBy` answers after 5 s
 * and talks `seconds` (the others' legs are canceled), or nobody does (each leg ends `no-answer`). The parent call
 * completes last. Returns the call's SID.
 */
async function incomingCall(from: string, at: number, outcome: { answeredBy: string; seconds: number } | 'missed'): Promise<string> {
  const call = new TwilioCall(authToken, accountSid, from, LINE);
  const incoming = await call.incoming(app.routeUrls.callIncoming);
  expect(incoming.status).toBe(200);
  const parent = { CallSid: call.callSid, From: from, To: LINE, Direction: 'inbound' };
  await statusCallback(app.routeUrls.callStatus, { ...parent, CallStatus: 'ringing', Timestamp: rfc2822(at), SequenceNumber: '0' });
  const clients = ringingClients(incoming.twiml!);
  expect(clients.map((c) => c.identity).sort()).toEqual(['Alice', 'Bob']);
  let end = at + 20_000;
  for (const client of clients) {
    expect(client.statusCallback.startsWith(`${app.routeUrls.callStatus}?`)).toBe(true);
    const leg = { CallSid: sid('CA'), ParentCallSid: call.callSid, From: from, To: `client:${client.identity}`, Direction: 'outbound-dial' };
    const ringing = { status: 'ringing', at: at + 1_000 };
    if (outcome === 'missed') {
      await legProgress(client.statusCallback, leg, [ringing, { status: 'no-answer', at: at + 20_000 }]);
    } else if (outcome.answeredBy === client.identity) {
      end = at + 5_000 + outcome.seconds * 1_000;
      await legProgress(client.statusCallback, leg, [
        ringing,
        { status: 'in-progress', at: at + 5_000 },
        { status: 'completed', at: end, duration: outcome.seconds },
      ]);
    } else {
      await legProgress(client.statusCallback, leg, [ringing, { status: 'canceled', at: at + 5_000 }]);
    }
  }
  const duration = String(Math.round((end - at) / 1000));
  await statusCallback(app.routeUrls.callStatus, {
    ...parent,
    CallStatus: 'completed',
    Timestamp: rfc2822(end),
    SequenceNumber: '1',
    CallDuration: duration,
  });
  return call.callSid;
}

/**
 * A softphone places a call: what Twilio posts to the outgoing webhook for the page's `connect()` parameters, then
 * the dialled leg's progress (answered, `seconds` of talk) to the `<Number>`'s or `<Client>`'s statusCallback, and
 * the parent call's (the TwiML App's callback). Returns the call's SID.
 */
async function placedCall(by: string, params: Record<string, string>, at: number, seconds: number): Promise<string> {
  const callSid = sid('CA');
  const parent = { CallSid: callSid, From: `client:${by}`, To: '', Direction: 'inbound' };
  const answer = await postWebhook(
    app.routeUrls.callOutgoing,
    { AccountSid: accountSid, ApiVersion: '2010-04-01', ...parent, Caller: `client:${by}`, CallStatus: 'ringing', ...params },
    authToken,
  );
  const dial = childElement(answer.twiml!, 'Dial');
  const [dialled] = [...childElements(dial, 'Number'), ...childElements(dial, 'Client')];
  const to = dialled.name === 'Client' ? `client:${textOf(childElement(dialled, 'Identity'))}` : textOf(dialled);
  await statusCallback(app.routeUrls.callStatus, { ...parent, CallStatus: 'ringing', Timestamp: rfc2822(at), SequenceNumber: '0' });
  const end = at + 3_000 + seconds * 1_000;
  await legProgress(dialled.attrs.statusCallback, { CallSid: sid('CA'), ParentCallSid: callSid, From: LINE, To: to, Direction: 'outbound-dial' }, [
    { status: 'initiated', at: at + 500 },
    { status: 'ringing', at: at + 1_000 },
    { status: 'in-progress', at: at + 3_000 },
    { status: 'completed', at: end, duration: seconds },
  ]);
  await statusCallback(app.routeUrls.callStatus, {
    ...parent,
    CallStatus: 'completed',
    Timestamp: rfc2822(end),
    SequenceNumber: '1',
    CallDuration: String(seconds + 3),
  });
  return callSid;
}

// ---------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-e2e-calls-'));
  const siteDir = path.join(dir, 'site');
  await buildClient({ outdir: siteDir, e2e: true, voicemailPollMs: POLL_MS });
  app = await startLocalApp({
    port: 0,
    host: '127.0.0.1',
    registryPath: path.join(dir, 'registry'),
    credentials: TEST_CREDENTIALS,
    clientDir: siteDir,
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    log: () => undefined,
  });
  for (const [clientName, label] of [
    ['Alice', 'Front desk'],
    ['Bob', 'Back office'],
  ]) {
    secrets[clientName] = (await addDevice(app.lines, { number: LINE, clientName, label })).secret;
  }
  // Open at all hours, so that every call rings whatever the time of the test run.
  await setLine(app.lines, LINE, { hours: { hours: 'Mon-Sun 00:00-24:00', timeZone: 'Asia/Tokyo' } });

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 460, height: 900 }, locale: 'en-US' });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const status = /status of (\d{3})/.exec(msg.text())?.[1];
    if (status && expectedStatuses.includes(Number(status))) return;
    pageErrors.push(`console: ${msg.text()}`);
  });
  const entries = new WeakMap<Request, { status?: number }>();
  page.on('request', (req: Request) => {
    const url = req.url();
    if (req.method() !== 'POST' || !url.startsWith(`${app.apiBaseUrl}/softphone/`)) return;
    const e: (typeof pageApiCalls)[number] = { path: url.slice(app.apiBaseUrl.length), body: req.postDataJSON() };
    pageApiCalls.push(e);
    entries.set(req, e);
  });
  page.on('response', (res: Response) => {
    const e = entries.get(res.request());
    if (e) e.status = res.status();
  });
  await page.goto(`${app.url}/`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Recent calls from the call log (Chromium, the local app, Twilio’s status callbacks)', () => {
  /** Whole seconds, half an hour ago: the calls below happened after it. */
  const base = Math.floor((Date.now() - 30 * 60_000) / 1000) * 1000;
  const at = { answered: base, placed: base + 5 * 60_000, internal: base + 10 * 60_000, missed: base + 15 * 60_000 };
  const sids: Record<keyof typeof at, string> = { answered: '', placed: '', internal: '', missed: '' };
  const older: string[] = [];

  it('signs in as Bob (remembered on this device); the line has no calls yet', async () => {
    await page.getByLabel('Your Twilio number').fill(LINE);
    await page.getByLabel('Device secret').fill(secrets.Bob);
    await page.getByLabel('Remember this device').check();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('#reg-status[data-state="ready"]').waitFor(WAIT);
    await page.locator('#recent-status', { hasText: 'No calls yet.' }).waitFor(WAIT);
    expect(await recentItems().count()).toBe(0);
    expect(await page.locator('#recent-badge').isHidden()).toBe(true);
    expect(await page.locator('#recent-more').isHidden()).toBe(true);
    expect(callLogLists()[0]).toMatchObject({ body: { action: 'list', limit: 20 }, status: 200 });
  });

  it('lists the line’s calls from the server, newest first, in words; the missed one is marked, with a badge', async () => {
    for (let i = 0; i < OLDER_CALLS; i++) {
      const from = `+8190${String(55550000 + i)}`;
      older.push(await incomingCall(from, base - (i + 1) * 60_000, { answeredBy: i % 2 ? 'Alice' : 'Bob', seconds: 10 + i }));
    }
    sids.answered = await incomingCall(ANSWERED_CALLER, at.answered, { answeredBy: 'Alice', seconds: 65 });
    sids.placed = await placedCall('Bob', { callOutgoingPhoneNumber: DIALLED, callerPhoneNumber: LINE }, at.placed, 42);
    sids.internal = await placedCall('Alice', { callOutgoingClient: 'Bob' }, at.internal, 30);
    sids.missed = await incomingCall(MISSED_CALLER, at.missed, 'missed');

    // The page polls: the first page (20 calls) shows up.
    await page.locator(`#recent-list > li[data-call-sid="${sids.missed}"][data-missed="true"]`).waitFor(WAIT);
    await waitUntil('the first page is shown', async () => (await recentItems().count()) === 20);
    expect(await recentItems().evaluateAll((lis) => lis.slice(0, 4).map((li) => li.getAttribute('data-call-sid')))).toEqual([
      sids.missed,
      sids.internal,
      sids.placed,
      sids.answered,
    ]);
    const shown = async (callSid: string) => ({
      icon: await entry(callSid).locator('.dir').getAttribute('aria-label'),
      party: await entry(callSid).locator('.num').textContent(),
      detail: await entry(callSid).locator('.detail').textContent(),
      time: await entry(callSid).locator('time').getAttribute('datetime'),
      missed: await entry(callSid).getAttribute('data-missed'),
      isNew: await entry(callSid).locator('.recent-new').isVisible(),
    });
    expect(await shown(sids.missed)).toEqual({
      icon: 'Missed call',
      party: MISSED_SHOWN,
      detail: ' · Missed',
      time: isoOf(at.missed),
      missed: 'true',
      isNew: true,
    });
    expect(await shown(sids.internal)).toEqual({
      icon: 'Call between teammates',
      party: 'Teammate Alice',
      detail: ' · 0:30 · Alice called, answered',
      time: isoOf(at.internal),
      missed: 'false',
      isNew: false,
    });
    expect(await shown(sids.placed)).toEqual({
      icon: 'Outgoing call',
      party: DIALLED_SHOWN,
      detail: ' · 0:42 · You called, answered',
      time: isoOf(at.placed),
      missed: 'false',
      isNew: false,
    });
    expect(await shown(sids.answered)).toEqual({
      icon: 'Incoming call',
      party: ANSWERED_SHOWN,
      detail: ' · 1:05 · Answered by Alice',
      time: isoOf(at.answered),
      missed: 'false',
      isNew: false,
    });
    expect(await entry(older[0]).locator('.detail').textContent()).toBe(' · 0:10 · Answered by you');
    // The missed call is red; the others are not.
    const colour = (callSid: string) =>
      entry(callSid)
        .locator('.num')
        .evaluate((el) => getComputedStyle(el).color);
    expect(await colour(sids.missed)).not.toBe(await colour(sids.answered));

    // One missed call Bob has not seen: the badge says so (in the heading's name too), and the tab's title.
    await page.locator('#recent-badge:not([hidden])').waitFor(WAIT);
    expect(await page.locator('#recent-badge-count').textContent()).toBe('1');
    await page.getByRole('heading', { name: 'Recent calls 1 missed', exact: true }).waitFor(WAIT);
    expect(await page.title()).toBe('(1) Softphone');
    expect(await page.locator('#recent-more').isVisible()).toBe(true);
    expect(await page.locator('#recent-note').isHidden()).toBe(true);
  });

  it('clears the badge once Bob looks at the list: the device’s seen mark moves to the newest call', async () => {
    // Nobody has looked yet: polls come and go, the badge stays.
    const polled = callLogLists().length;
    await waitUntil('two more polls answered', () => callLogLists().filter((c) => c.status === 200).length > polled + 1);
    expect(await page.locator('#recent-badge-count').textContent()).toBe('1');
    const marked = () => pageApiCalls.filter((c) => c.body.action === 'markSeen');
    expect(marked()).toEqual([]);
    await entry(sids.missed).hover(); // scrolled into view, the pointer over it
    await page.locator('#recent-badge').waitFor({ state: 'hidden', ...WAIT });
    await page.getByRole('heading', { name: 'Recent calls', exact: true }).waitFor(WAIT);
    expect(await page.title()).toBe('Softphone');
    expect(await entry(sids.missed).locator('.recent-new').isHidden()).toBe(true);
    expect(await entry(sids.missed).getAttribute('data-missed')).toBe('true'); // still a missed call
    await waitUntil('the API answered the mark', () => marked().some((c) => c.status === 200));
    expect(marked().map((c) => c.body)).toEqual([{ action: 'markSeen', until: isoOf(at.missed) }]);
    expect(await app.calls.seenUntil('Bob')).toBe(isoOf(at.missed));
    expect(await app.calls.seenUntil('Alice')).toBeUndefined(); // each device has its own mark
    // Polls do not bring the badge back.
    const after = callLogLists().length;
    await waitUntil('two more polls answered', () => callLogLists().filter((c) => c.status === 200).length > after + 1);
    expect(await page.locator('#recent-badge').isHidden()).toBe(true);
  });

  it('shows more: the next older page, below', async () => {
    const lists = callLogLists().length;
    await page.getByRole('button', { name: 'Show more', exact: true }).click();
    await waitUntil('the older page is shown', async () => (await recentItems().count()) === 22);
    await announced('2 older calls shown.');
    const next = callLogLists()
      .slice(lists)
      .find((c) => typeof c.body.cursor === 'string');
    expect(next).toMatchObject({ body: { action: 'list', limit: 20, cursor: expect.any(String) }, status: 200 });
    // The oldest calls, oldest last; nothing older: the button goes (and the focus stays in the list).
    expect(await recentItems().evaluateAll((lis) => lis.slice(-2).map((li) => li.getAttribute('data-call-sid')))).toEqual(older.slice(-2));
    await page.locator('#recent-more').waitFor({ state: 'hidden', ...WAIT });
    expect(await page.evaluate(() => document.getElementById('recent')?.contains(document.activeElement))).toBe(true);
    // Polls keep the older page below the first.
    const polled = callLogLists().length;
    await waitUntil('two more polls answered', () => callLogLists().filter((c) => c.status === 200).length > polled + 1);
    expect(await recentItems().count()).toBe(22);
  });

  it('calls the missed caller back: the number goes into the dial field and is dialled with the line as caller ID', async () => {
    await entry(sids.missed)
      .getByRole('button', { name: `Call back ${MISSED_SHOWN}`, exact: true })
      .click();
    await page.locator('#call-state[data-phase="in-call"]').waitFor(WAIT);
    expect(await page.getByLabel('Number to call').inputValue()).toBe(MISSED_SHOWN);
    const sent = (await control()).connects.at(-1)!;
    expect(sent).toEqual({ callOutgoingPhoneNumber: MISSED_CALLER, callerPhoneNumber: LINE });
    const lists = callLogLists().length;
    await page.getByRole('button', { name: 'Hang up', exact: true }).click();
    await page.locator('#call-state[data-phase="ended"]').waitFor(WAIT);
    // The page keeps no copy of the call: it asks the log, where Twilio's callbacks put it.
    await waitUntil('the log was asked again', () => callLogLists().length > lists);
    const callSid = await placedCall('Bob', sent, Date.now() - 10_000, 4);
    await entry(callSid).waitFor(WAIT);
    expect(await recentItems().first().getAttribute('data-call-sid')).toBe(callSid);
    expect(await entry(callSid).locator('.num').textContent()).toBe(MISSED_SHOWN);
    expect(await entry(callSid).locator('.detail').textContent()).toBe(' · 0:04 · You called, answered');
  });

  it('calls a teammate back through the teammate calling: Alice called Bob, so Bob calls Alice', async () => {
    await entry(sids.internal).getByRole('button', { name: 'Call back Teammate Alice', exact: true }).click();
    await page.locator('#call-state[data-phase="in-call"]').waitFor(WAIT);
    expect((await control()).connects.at(-1)).toEqual({ callOutgoingClient: 'Alice' });
    expect(await page.locator('#call-number').textContent()).toBe('Teammate Alice');
    await page.getByRole('button', { name: 'Hang up', exact: true }).click();
    await page.locator('#call-state[data-phase="ended"]').waitFor(WAIT);
  });

  it('while the call log is unavailable, keeps the list with a note that it may be out of date', async () => {
    expectedStatuses = [503];
    const callsUrl = `${app.apiBaseUrl}/softphone/calls`;
    await page.route(callsUrl, (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ success: false, error: 'The phone service is temporarily unavailable. Try again in a moment.' }),
      }),
    );
    const count = await recentItems().count();
    await page.locator('#recent-note:not([hidden])').waitFor(WAIT);
    expect(await page.locator('#recent-note').textContent()).toMatch(
      /^Recent calls could not be loaded: The phone service is temporarily unavailable\. Try again in a moment\. The calls shown are as of .+ and may be out of date\.$/,
    );
    expect(await recentItems().count()).toBe(count);

    // Reloaded (the device is remembered and signs in again): this browser's copy is shown, said to be a copy.
    await page.reload();
    await page.locator('#reg-status[data-state="ready"]').waitFor(WAIT);
    await page.locator('#recent-note:not([hidden])').waitFor(WAIT);
    await page.locator('#recent-note', { hasText: /^Recent calls could not be loaded: .* may be out of date\.$/ }).waitFor(WAIT);
    expect(await recentItems().count()).toBeGreaterThanOrEqual(20);
    expect(await recentItems().first().locator('.num').textContent()).toBe(MISSED_SHOWN);
    expect(await entry(sids.missed).locator('.detail').textContent()).toBe(' · Missed');
    expect(await page.locator('#recent-more').isHidden()).toBe(true); // no paging in a copy

    // The service is back: the server's list replaces the copy.
    await page.unroute(callsUrl);
    await page.locator('#recent-note').waitFor({ state: 'hidden', ...WAIT });
    await page.locator('#recent-more:not([hidden])').waitFor(WAIT);
    expect(await recentItems().count()).toBe(20);
    expect(await page.locator('#recent-badge').isHidden()).toBe(true);
  });

  it('signs out: the list, and this browser’s copy of it, are gone', async () => {
    expect(await page.evaluate(() => localStorage.getItem('softphone.callLog'))).toContain(sids.missed);
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.locator('#signin').waitFor(WAIT);
    expect(await recentItems().count()).toBe(0);
    expect(await page.evaluate(() => localStorage.getItem('softphone.callLog'))).toBeNull();
    expect(await page.title()).toBe('Softphone');
  });

  it('raised no page errors (no CSP violation, no unexpected failed request)', () => {
    expect(pageErrors).toEqual([]);
  });
});
