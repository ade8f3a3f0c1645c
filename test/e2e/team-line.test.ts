/**
 * A team line on the page, in Debian's Chromium, against the REAL local app serving the page itself (as `npm start`
 * does: its own origin, config.json and Content-Security-Policy, the page API behind the page authorizer, the
 * recordings through signed URLs). Twilio is played by the shared fake of its REST API (the recordings the
 * voicemail callback fetches and deletes) and by signed webhooks posted to the exact URLs the API's TwiML names
 * (`TwilioCall`); the browser's Voice SDK Device is the test double (`client/src/voice/fake-device.ts`), rung with
 * the `<Client>` parameters of the API's own TwiML.
 *
 * The line +81 50-3123-4567 has two devices, Alice and Bob; Carol is on another line. The page signs in as Bob.
 * The page is built to poll for voicemail every 300 ms instead of 30 s (`buildClient({ voicemailPollMs })`), so
 * a new message shows up without a reload within the tests' waits.
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page, Request, Response } from 'playwright-core';
import { buildClient } from '../../client/build';
import { createVoiceAccessToken } from '../../lambda/core/access-token';
import type { TwilioCredentials } from '../../lambda/ports';
import { addDevice, rotateDeviceSecret, setLine } from '../../lib/devices/device-admin';
import { startLocalApp, type LocalApp } from '../../lib/local/app';
import { FakeTwilio, sid } from '../support/fake-twilio';
import { DEVICE_NUMBER, launchChromium, type SoftphoneTestControl } from '../support/fixtures';
import { childElement, dialledClients, postWebhook, TwilioCall, type XmlElement } from '../support/lines';
import { silentMp3 } from './harness';

const LINE = DEVICE_NUMBER; // +815031234567
const LINE_TYPED = '+81-50-3123-4567';
const LINE_SHOWN = '050-3123-4567';
const OTHER_LINE = '+815031234568';
const CALLER = '+819059876543';
const CALLER_SHOWN = '090-5987-6543';
const SECOND_CALLER = '+819011112222';
const SECOND_CALLER_SHOWN = '090-1111-2222';
const POLL_MS = 300;
/** Generous waits: the tests wait for conditions, never for a time, and must pass on a loaded machine. */
const WAIT = { timeout: 20_000 };
jest.setTimeout(120_000);

let dir: string;
let fake: FakeTwilio;
let credentials: TwilioCredentials;
let app: LocalApp;
let browser: Browser;
let page: Page;
const secrets: Record<string, string> = {};
const pageErrors: string[] = [];
/** Every request the page made to the token API (with its JSON body) and to the page API, with their answers. */
const tokenRequests: Array<{ body: Record<string, unknown>; status?: number }> = [];
const pageApiCalls: Array<{ path: string; body: Record<string, unknown>; authorization?: string; status?: number }> = [];
/** Console errors the browser logs for answers a test provokes on purpose (`Failed to load resource: … 401`). */
let expectedStatuses: number[] = [];

const control = () => page.evaluate(() => (window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest);
const ring = (from: string, parameters: Record<string, string>) =>
  page.evaluate(([f, p]) => (window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest.incoming(f, p), [
    from,
    parameters,
  ] as const);
const remoteHangup = () => page.evaluate(() => (window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest.remoteHangup());
const vmItem = (id: string) => page.locator(`#vm-list li[data-id="${id}"]`);
const announced = (text: string | RegExp) =>
  page.waitForFunction(
    ([source, flags]) => new RegExp(source, flags).test(document.getElementById('announcer')?.textContent ?? ''),
    typeof text === 'string' ? ([`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, ''] as const) : ([text.source, text.flags] as const),
    WAIT,
  );
/** Resolves once `check` is true (checked every 50 ms), or fails after `timeout` ms saying what was awaited. */
async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeout = WAIT.timeout): Promise<void> {
  const until = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Makes the page hidden or visible again, as switching tabs does (headless Chromium's page is always visible). */
const setVisibility = (state: 'hidden' | 'visible') =>
  page.evaluate((s) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => s === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);

/**
 * Waits until the answers to every request recorded so far are recorded too (Playwright reports a response
 * after the page may already have acted on it).
 */
async function answersIn(): Promise<void> {
  const pending = [...tokenRequests, ...pageApiCalls];
  await waitUntil('the answers of the requests made so far are in', () => pending.every((r) => r.status !== undefined));
}

/** The identity in a JWT's grants (not verified: the page API's authorizer does that). */
const identityOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')).grants.identity as string;

/** A real Access Token of `identity`, signed with the app's API key, that expired an hour ago. */
async function expiredToken(identity: string): Promise<string> {
  const fresh = createVoiceAccessToken(credentials, identity, 60).token;
  const [header, payload] = fresh.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  const now = Math.floor(Date.now() / 1000);
  const expired = Buffer.from(JSON.stringify({ ...claims, iat: now - 7200, exp: now - 3600 })).toString('base64url');
  const signature = createHmac('sha256', credentials.apiKeySecret).update(`${header}.${expired}`).digest('base64url');
  return `${header}.${expired}.${signature}`;
}

/** The next page API request to `path` goes out with an expired token instead of the page's (as after a long sleep). */
async function expireSessionOnce(apiPath: string): Promise<void> {
  const url = `${app.apiBaseUrl}${apiPath}`;
  let done = false;
  await page.route(url, async (route) => {
    if (done || route.request().method() !== 'POST') return route.fallback();
    done = true;
    await route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${await expiredToken('Bob')}` } });
  });
}

/** A caller rings the line; nobody answers; they leave a message of `seconds`: Twilio's webhooks, as Twilio posts them. */
async function leaveVoicemail(from: string, seconds: number): Promise<{ recordingSid: string; ringing: XmlElement }> {
  const call = new TwilioCall(credentials.authToken, credentials.accountSid, from, LINE);
  const incoming = await call.incoming(app.routeUrls.callIncoming);
  expect(incoming.status).toBe(200);
  const recordingSid = fake.seedRecording({ callSid: call.callSid, durationSeconds: seconds, audio: silentMp3(seconds) });
  const unanswered = await call.dialEnded(incoming.twiml!, { DialCallStatus: 'no-answer' });
  expect(childElement(unanswered.twiml!, 'Record')).toBeDefined();
  expect((await call.recorded(unanswered.twiml!, recordingSid, seconds)).status).toBe(200);
  expect((await call.recordingStatus(unanswered.twiml!, recordingSid, seconds)).status).toBe(200);
  return { recordingSid, ringing: incoming.twiml! };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-e2e-team-'));
  const siteDir = path.join(dir, 'site');
  await buildClient({ outdir: siteDir, e2e: true, voicemailPollMs: POLL_MS });
  fake = await new FakeTwilio().start();
  const apiKeySecret = 'e2e-team-line-api-key-secret';
  credentials = {
    accountSid: fake.accountSid,
    apiKeySid: fake.seedKey('softphone', { secret: apiKeySecret }),
    apiKeySecret,
    authToken: fake.authToken,
    twimlAppSid: sid('AP'),
  };
  app = await startLocalApp({
    port: 0,
    host: '127.0.0.1',
    registryPath: path.join(dir, 'registry'),
    credentials,
    clientDir: siteDir,
    env: { TWILIO_API_BASE_URL: fake.url, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    log: () => undefined,
  });
  for (const [number, clientName, label] of [
    [LINE, 'Alice', 'Front desk'],
    [LINE, 'Bob', 'Back office'],
    [OTHER_LINE, 'Carol', 'Other line'],
  ]) {
    secrets[clientName] = (await addDevice(app.lines, { number, clientName, label })).secret;
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
    if (req.method() !== 'POST') return;
    const url = req.url();
    if (url === app.routeUrls.token) {
      const entry: (typeof tokenRequests)[number] = { body: req.postDataJSON() };
      tokenRequests.push(entry);
      entries.set(req, entry);
    } else if (url.startsWith(`${app.apiBaseUrl}/softphone/`)) {
      const entry: (typeof pageApiCalls)[number] = {
        path: url.slice(app.apiBaseUrl.length),
        body: req.postDataJSON(),
        authorization: req.headers().authorization,
      };
      pageApiCalls.push(entry);
      entries.set(req, entry);
    }
  });
  page.on('response', (res: Response) => {
    const entry = entries.get(res.request());
    if (entry) entry.status = res.status();
  });
  await page.goto(`${app.url}/`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a team line on the page (Chromium, the local app, a fake Twilio)', () => {
  it('signs in as the second device of the line with its own secret; the identity is remembered for next time', async () => {
    await page.getByLabel('Your Twilio number').fill(LINE_TYPED);
    await page.getByLabel('Device secret').fill(secrets.Bob);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('#reg-status[data-state="ready"]').waitFor(WAIT);
    expect((await control()).identity).toBe('Bob');
    await answersIn();
    // No hint yet: nothing was remembered for this number.
    expect(tokenRequests).toEqual([{ body: { twilioPhoneNumber: LINE, deviceSecret: secrets.Bob }, status: 200 }]);
    expect(JSON.parse((await page.evaluate(() => localStorage.getItem('softphone.identities'))) ?? '[]')).toEqual([[LINE, 'Bob']]);
    expect(await page.locator('#me').textContent()).toBe(`${LINE_SHOWN} · Bob`);
  });

  it('shows the team: the line, its status, and the teammate (not yourself, not another line) with a Call button', async () => {
    await page.locator('#team-list li').first().waitFor(WAIT);
    expect(await page.locator('#team-line').textContent()).toBe(LINE_SHOWN);
    expect(await page.locator('#team-status li').allTextContents()).toEqual([
      'Voicemail on',
      'Forwarding off',
      'Hours Mon-Sun 00:00-24:00 (Asia/Tokyo)',
    ]);
    expect(await page.locator('#team-list li .team-name').allTextContents()).toEqual(['Alice']);
    expect(await page.locator('#team-list li .team-label').allTextContents()).toEqual(['Front desk']);
    expect(await page.getByRole('list', { name: 'Team' }).getByRole('button').count()).toBe(1);
    await page.getByRole('button', { name: 'Call Alice (Front desk)', exact: true }).waitFor(WAIT);
    // The page API was called with the Access Token the page signed in with: Bob's.
    await answersIn();
    const directory = pageApiCalls.find((c) => c.path === '/softphone/directory');
    expect(directory).toMatchObject({ body: {}, status: 200, authorization: expect.stringMatching(/^Bearer /) });
    expect(identityOf(directory!.authorization!.slice('Bearer '.length))).toBe('Bob');
    // The voicemail inbox loaded too: empty.
    await page.locator('#vm-status', { hasText: 'No voicemail.' }).waitFor(WAIT);
    expect(await page.locator('#vm-badge').isHidden()).toBe(true);
  });

  it('calls the teammate: the page sends callOutgoingClient, and the outgoing webhook dials that client', async () => {
    await page.getByRole('button', { name: 'Call Alice (Front desk)', exact: true }).click();
    await page.locator('#call-state[data-phase="in-call"]').waitFor(WAIT);
    const sent = (await control()).connects.at(-1)!;
    expect(sent).toEqual({ callOutgoingClient: 'Alice' });
    expect(await page.locator('#call-number').textContent()).toBe('Teammate Alice');
    expect(await page.getByRole('button', { name: 'Call Alice (Front desk)', exact: true }).isDisabled()).toBe(true);

    // What Twilio posts for that connect(): the client's identity as From, the page's parameters as they are.
    const answer = await postWebhook(
      app.routeUrls.callOutgoing,
      {
        AccountSid: credentials.accountSid,
        ApiVersion: '2010-04-01',
        CallSid: sid('CA'),
        CallStatus: 'ringing',
        From: 'client:Bob',
        Caller: 'client:Bob',
        To: '',
        ...sent,
      },
      credentials.authToken,
    );
    expect(dialledClients(childElement(answer.twiml!, 'Dial'))).toEqual([
      { identity: 'Alice', parameters: { callerNumber: 'client:Bob', lineNumber: LINE } },
    ]);

    await page.getByRole('button', { name: 'Hang up', exact: true }).click();
    await page.locator('#call-state[data-phase="ended"]').waitFor(WAIT);
  });

  it('shows a teammate’s call as coming from "Teammate <name>" on the line', async () => {
    // Alice calls Bob: the API's TwiML rings Bob with Alice as the caller and the line.
    const answer = await postWebhook(
      app.routeUrls.callOutgoing,
      {
        AccountSid: credentials.accountSid,
        CallSid: sid('CA'),
        CallStatus: 'ringing',
        From: 'client:Alice',
        Caller: 'client:Alice',
        To: '',
        callOutgoingClient: 'Bob',
      },
      credentials.authToken,
    );
    const [bob] = dialledClients(childElement(answer.twiml!, 'Dial'));
    expect(bob.identity).toBe('Bob');
    await ring('client:Alice', bob.parameters);
    const panel = page.getByRole('alertdialog', { name: 'Incoming call', exact: true });
    await panel.waitFor(WAIT);
    expect(await page.locator('#incoming-from').textContent()).toBe('Teammate Alice');
    expect(await page.locator('#incoming-line').textContent()).toBe(`On line ${LINE_SHOWN}`);
    await page.getByRole('button', { name: 'Reject', exact: true }).click();
    await page.locator('#call-state[data-phase="ended"]').waitFor(WAIT);
  });

  let firstMessage: string;

  it('an outside call shows the caller and the line; unanswered, the caller leaves a message that appears without a reload', async () => {
    const call = new TwilioCall(credentials.authToken, credentials.accountSid, CALLER, LINE);
    const incoming = await call.incoming(app.routeUrls.callIncoming);
    const rung = dialledClients(childElement(incoming.twiml!, 'Dial'));
    expect(rung.map((c) => c.identity).sort()).toEqual(['Alice', 'Bob']);
    const bob = rung.find((c) => c.identity === 'Bob')!;
    await ring(CALLER, bob.parameters);
    await page.getByRole('alertdialog', { name: 'Incoming call', exact: true }).waitFor(WAIT);
    expect(await page.locator('#incoming-from').textContent()).toBe(CALLER_SHOWN);
    expect(await page.locator('#incoming-line').textContent()).toBe(`On line ${LINE_SHOWN}`);
    await announced(`Incoming call from ${CALLER_SHOWN}, on line ${LINE_SHOWN}`);
    // Nobody answers: Twilio stops ringing the browsers …
    await remoteHangup();
    await page.locator('#call-state[data-phase="ended"]').waitFor(WAIT);
    expect(await page.locator('#call-state').textContent()).toBe('Call ended: Missed call: the caller hung up');

    // … and the Dial's action takes the caller to voicemail; the recording is fetched from Twilio, kept, and deleted there.
    const recordingSid = fake.seedRecording({ callSid: call.callSid, durationSeconds: 3, audio: silentMp3(3) });
    const unanswered = await call.dialEnded(incoming.twiml!, { DialCallStatus: 'no-answer' });
    expect((await call.recorded(unanswered.twiml!, recordingSid, 3)).status).toBe(200);
    expect((await call.recordingStatus(unanswered.twiml!, recordingSid, 3)).status).toBe(200);
    expect(fake.recordings.has(recordingSid)).toBe(false);
    expect(fake.contractViolations).toEqual([]);
    firstMessage = recordingSid;

    // The page polls: the message shows up, counted in the badge and the title, and is announced.
    await vmItem(recordingSid).waitFor(WAIT);
    await announced(`New voicemail from ${CALLER_SHOWN}.`);
    expect(await page.locator('#vm-badge-count').textContent()).toBe('1');
    await page.getByRole('heading', { name: 'Voicemail 1 unheard', exact: true }).waitFor(WAIT);
    expect(await page.title()).toBe('(1) Softphone');
    const item = vmItem(recordingSid);
    expect(await item.locator('.vm-from').textContent()).toBe(CALLER_SHOWN);
    expect(await item.locator('.vm-new').isVisible()).toBe(true);
    expect(await item.locator('.vm-duration').textContent()).toBe('0:03');
    const stored = await app.voicemails.get(LINE, recordingSid);
    expect(await item.locator('time').getAttribute('datetime')).toBe(stored!.receivedAt);
    expect(await item.getAttribute('data-heard')).toBe('false');
  });

  it('plays the message from the local app’s short-lived URL; playing it marks it heard', async () => {
    const item = vmItem(firstMessage);
    await item.getByRole('button', { name: new RegExp(`^Play voicemail from ${CALLER_SHOWN}, `) }).click();
    await page.waitForFunction(() => (document.getElementById('vm-audio') as HTMLAudioElement).currentSrc !== '', undefined, WAIT);
    const src = await page.evaluate(() => (document.getElementById('vm-audio') as HTMLAudioElement).currentSrc);
    expect(src.startsWith(`${app.url}/recordings/voicemail/815031234567/${firstMessage}.mp3?`)).toBe(true);
    expect(await page.locator('#vm-player').isVisible()).toBe(true);
    expect(await page.locator('#vm-now').textContent()).toMatch(new RegExp(`^Voicemail from ${CALLER_SHOWN}, `));
    // The audio really plays (the page's CSP allows the app's own media) …
    await page.waitForFunction(() => (document.getElementById('vm-audio') as HTMLAudioElement).currentTime > 0, undefined, WAIT);
    // … and the message is heard: on the page at once, and on the server.
    await page.locator(`#vm-list li[data-id="${firstMessage}"][data-heard="true"]`).waitFor(WAIT);
    expect(await page.locator('#vm-badge').isHidden()).toBe(true);
    expect(await page.title()).toBe('Softphone');
    await waitUntil('the server has it heard', async () => (await app.voicemails.get(LINE, firstMessage))?.heard === true);
    await answersIn();
    expect(pageApiCalls.filter((c) => c.body.action === 'markHeard')).toEqual([
      expect.objectContaining({ body: { action: 'markHeard', id: firstMessage }, status: 200 }),
    ]);
    // The URL is the recording, served by the app with its signature (and refused without it).
    const audio = await fetch(src);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await audio.arrayBuffer()).equals(silentMp3(3))).toBe(true);
    expect((await fetch(src.replace(/signature=[^&]+/, 'signature=AAAA'))).status).toBe(403);
  });

  let secondMessage: string;

  it('marks a message heard by hand', async () => {
    ({ recordingSid: secondMessage } = await leaveVoicemail(SECOND_CALLER, 5));
    await vmItem(secondMessage).waitFor(WAIT);
    expect(await page.locator('#vm-list li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-id')))).toEqual([
      secondMessage,
      firstMessage,
    ]);
    await page.locator('#vm-badge:not([hidden])').waitFor(WAIT);
    expect(await page.locator('#vm-badge-count').textContent()).toBe('1');
    await vmItem(secondMessage)
      .getByRole('button', { name: new RegExp(`^Mark voicemail from ${SECOND_CALLER_SHOWN}, .* as heard$`) })
      .click();
    await page.locator(`#vm-list li[data-id="${secondMessage}"][data-heard="true"]`).waitFor(WAIT);
    await announced('Marked as heard.');
    expect(
      await vmItem(secondMessage)
        .getByRole('button', { name: /as heard$/ })
        .isDisabled(),
    ).toBe(true);
    expect(await page.locator('#vm-badge').isHidden()).toBe(true);
    await waitUntil('the server has it heard', async () => (await app.voicemails.get(LINE, secondMessage))?.heard === true);
  });

  it('calls the caller back: the number goes into the dial field and is dialled with the line as caller ID', async () => {
    await vmItem(secondMessage)
      .getByRole('button', { name: `Call back ${SECOND_CALLER_SHOWN}`, exact: true })
      .click();
    await page.locator('#call-state[data-phase="in-call"]').waitFor(WAIT);
    expect(await page.getByLabel('Number to call').inputValue()).toBe(SECOND_CALLER_SHOWN);
    expect((await control()).connects.at(-1)).toEqual({ callOutgoingPhoneNumber: SECOND_CALLER, callerPhoneNumber: LINE });
    await page.getByRole('button', { name: 'Hang up', exact: true }).click();
    await page.locator('#call-state[data-phase="ended"]').waitFor(WAIT);
  });

  it('deletes a message only after confirmation, with its recording', async () => {
    expect(await app.voicemails.get(LINE, firstMessage)).toBeDefined();
    const del = vmItem(firstMessage).getByRole('button', { name: new RegExp(`^Delete voicemail from ${CALLER_SHOWN}, `) });
    await del.click();
    const dialog = page.getByRole('dialog', { name: 'Delete voicemail?' });
    await dialog.waitFor(WAIT);
    expect(await page.locator('#vm-confirm-text').textContent()).toMatch(
      new RegExp(`^Delete the voicemail from ${CALLER_SHOWN}, .*\\? It cannot be recovered\\.$`),
    );
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('vm-confirm-cancel');
    // Escape (or Cancel) keeps it.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden', ...WAIT });
    expect(await vmItem(firstMessage).count()).toBe(1);
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.getAttribute('aria-label') ?? '')).toMatch(
      /^Delete voicemail from /,
    );
    expect(pageApiCalls.some((c) => c.body.action === 'delete')).toBe(false);

    const src = await page.evaluate(() => (document.getElementById('vm-audio') as HTMLAudioElement).currentSrc);
    await del.click();
    await dialog.waitFor(WAIT);
    await page.locator('#vm-confirm-delete').click();
    await vmItem(firstMessage).waitFor({ state: 'detached', ...WAIT });
    await announced(`Voicemail from ${CALLER_SHOWN} deleted.`);
    expect(await app.voicemails.get(LINE, firstMessage)).toBeUndefined();
    // The recording is gone from the app's store: its (still signed) URL finds nothing.
    expect((await fetch(src)).status).toBe(404);
    // The player of a deleted message closes; the other message stays.
    expect(await page.locator('#vm-player').isHidden()).toBe(true);
    expect(await page.locator('#vm-list li').count()).toBe(1);
    // A poll does not bring it back.
    const lists = pageApiCalls.filter((c) => c.body.action === 'list').length;
    await waitUntil(
      'two more lists were answered',
      () => pageApiCalls.filter((c) => c.body.action === 'list' && c.status === 200).length > lists + 1,
    );
    expect(await vmItem(firstMessage).count()).toBe(0);
  });

  it('a message a teammate deleted meanwhile leaves the list when played, with a word why', async () => {
    expectedStatuses = [404];
    const { recordingSid } = await leaveVoicemail(CALLER, 2);
    await vmItem(recordingSid).waitFor(WAIT);
    await setVisibility('hidden'); // no poll may take it away first
    await answersIn();
    // Alice deletes it from her own browser: the page API with her Access Token from the token API.
    const signIn = await fetch(app.routeUrls.token, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ twilioPhoneNumber: LINE, deviceSecret: secrets.Alice, clientName: 'Alice' }),
    });
    const { capabilityToken } = (await signIn.json()) as { capabilityToken: string };
    const deleted = await fetch(`${app.apiBaseUrl}/softphone/voicemails`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${capabilityToken}` },
      body: JSON.stringify({ action: 'delete', id: recordingSid }),
    });
    expect(await deleted.json()).toEqual({ success: true });
    await vmItem(recordingSid)
      .getByRole('button', { name: /^Play voicemail from / })
      .click();
    await vmItem(recordingSid).waitFor({ state: 'detached', ...WAIT });
    await announced('The voicemail cannot be played: That voicemail is no longer there: a teammate may have deleted it.');
    await answersIn();
    expect(pageApiCalls.filter((c) => c.body.action === 'play').at(-1)).toMatchObject({ body: { action: 'play', id: recordingSid }, status: 404 });
    await setVisibility('visible');
  });

  it('renews an expired session through the token API (with the identity hint) and carries on', async () => {
    expectedStatuses = [401];
    const tokensBefore = tokenRequests.length;
    await expireSessionOnce('/softphone/voicemails');
    const { recordingSid } = await leaveVoicemail(CALLER, 2);
    await vmItem(recordingSid).waitFor(WAIT);
    await answersIn();
    // One list was refused (401), a token was fetched, the same list went again with it.
    const refused = pageApiCalls.findIndex((c) => c.status === 401);
    expect(refused).toBeGreaterThanOrEqual(0);
    // (the call log polls too: the retried voicemail list is the next request to its route)
    const retried = pageApiCalls.slice(refused + 1).find((c) => c.path === '/softphone/voicemails');
    expect(retried).toMatchObject({ path: '/softphone/voicemails', body: { action: 'list' }, status: 200 });
    expect(retried!.authorization).not.toBe(pageApiCalls[refused].authorization);
    expect(tokenRequests.slice(tokensBefore)).toEqual([
      { body: { twilioPhoneNumber: LINE, deviceSecret: secrets.Bob, clientName: 'Bob' }, status: 200 },
    ]);
    expect(await page.locator('#vm-error').isHidden()).toBe(true);
    expect(await page.locator('#reg-status').textContent()).toBe('Ready');
    expect((await control()).tokens).toHaveLength(2); // the Device got the new token too
  });

  it('does not poll while the page is hidden, and loads at once when it is shown again', async () => {
    await setVisibility('hidden');
    // Whatever load was under way when the page was hidden finishes; then nothing is asked for.
    await answersIn();
    const before = pageApiCalls.length;
    const { recordingSid } = await leaveVoicemail(SECOND_CALLER, 4);
    // Ten poll intervals of quiet (an observation window: this can only ever pass late, never fail early).
    await page.waitForTimeout(POLL_MS * 10);
    expect(pageApiCalls.slice(before)).toEqual([]);
    expect(await vmItem(recordingSid).count()).toBe(0);
    await setVisibility('visible');
    await vmItem(recordingSid).waitFor(WAIT);
    expect(pageApiCalls.slice(before).some((c) => c.body.action === 'list')).toBe(true);
  });

  it('asks to sign in again when the renewal is refused (the secret was rotated), and stops asking', async () => {
    expectedStatuses = [401, 403];
    await rotateDeviceSecret(app.lines, { clientName: 'Bob' });
    const tokensBefore = tokenRequests.length;
    await expireSessionOnce('/softphone/voicemails');
    await page.locator('#vm-error:not([hidden])').waitFor(WAIT);
    expect(await page.locator('#vm-error').textContent()).toMatch(/^Voicemail could not be loaded: Sign in again: .*wrong device secret/);
    await announced(/^Voicemail could not be loaded: Sign in again/);
    await page.locator('#reg-status[data-state="error"]').waitFor(WAIT);
    await answersIn();
    expect(tokenRequests.slice(tokensBefore)).toEqual([expect.objectContaining({ status: 403 })]);
    // No more token requests (each would count towards the line's lockout) and no more polls.
    const calls = pageApiCalls.length;
    await page.waitForTimeout(POLL_MS * 10);
    expect(tokenRequests.slice(tokensBefore)).toHaveLength(1);
    expect(pageApiCalls.slice(calls)).toEqual([]);
  });

  it('signs out: the panels forget the line', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.locator('#signin').waitFor(WAIT);
    expect(await page.locator('#vm-list li').count()).toBe(0);
    expect(await page.locator('#team-list li').count()).toBe(0);
    expect(await page.title()).toBe('Softphone');
    // The identity hint stays: it is not a credential.
    expect(JSON.parse((await page.evaluate(() => localStorage.getItem('softphone.identities'))) ?? '[]')).toEqual([[LINE, 'Bob']]);
  });

  it('raised no page errors (no CSP violation, no unexpected failed request)', () => {
    expect(pageErrors).toEqual([]);
  });
});
