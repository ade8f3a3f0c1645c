/**
 * "Test my setup" in Debian's Chromium against the REAL local app serving the page itself (as `npm start` does:
 * its own origin, config.json and Content-Security-Policy). The microphone is Chromium's fake one (it beeps);
 * the test sound really plays; the preflight token really comes from the local app's token API
 * (`purpose: "preflight"`, the sign-in fields), which signs it for the preflight TwiML App named by
 * TWILIO_PREFLIGHT_TWIML_APP_SID in the app's TWILIO_* environment. Only `Device.runPreflight` is the test double
 * (`client/src/voice/fake-device.ts`): the tests end its test call with reports shaped as the Voice SDK's.
 *
 * A second local app runs without TWILIO_PREFLIGHT_TWIML_APP_SID: its token API answers 503, and the page says
 * Test my setup is not configured.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page, Request, Response } from 'playwright-core';
import { buildClient } from '../../client/build';
import { SPEAKER_QUESTION } from '../../client/src/setup-test';
import { addDevice } from '../../lib/devices/device-admin';
import { startLocalApp, type LocalApp } from '../../lib/local/app';
import { TEST_CREDENTIALS_ENV } from '../support/credentials-env';
import { DEVICE_NUMBER, launchChromium, TEST_CREDENTIALS, type SoftphoneTestControl } from '../support/fixtures';
import { recordAnnouncements, signIn } from './harness';

/** Generous waits: the tests wait for conditions, never for a time, and must pass on a loaded machine. */
const WAIT = { timeout: 30_000 };
jest.setTimeout(180_000);

const CLIENT = 'Bob';
const PREFLIGHT_APP_SID = 'AP9f0123456789abcdef0123456789abcd';
const NOT_CONFIGURED = 'Test my setup is not configured: run npm run twilio:setup.';

/** The app's TWILIO_* environment, as `npm start` reads it (with or without the preflight TwiML App). */
const twilioEnv = (preflight: boolean): NodeJS.ProcessEnv => ({
  ...TEST_CREDENTIALS_ENV,
  ...(preflight ? { TWILIO_PREFLIGHT_TWIML_APP_SID: PREFLIGHT_APP_SID } : {}),
  POWERTOOLS_LOG_LEVEL: 'ERROR',
});

/** A page on one local app, with the token requests it made (JSON body, status, answer) and its errors. */
interface Session {
  app: LocalApp;
  secret: string;
  context: BrowserContext;
  page: Page;
  tokenRequests: Array<{ body: Record<string, unknown>; status?: number; answer?: Record<string, unknown> }>;
  errors: string[];
  /** Console errors the browser logs for answers provoked on purpose (`Failed to load resource: … 503`). */
  expectedStatuses: number[];
}

let dir: string;
let browser: Browser;
let configured: Session;
let unconfigured: Session;

async function openSession(name: string, preflight: boolean): Promise<Session> {
  const app = await startLocalApp({
    port: 0,
    host: '127.0.0.1',
    registryPath: path.join(dir, `registry-${name}`),
    clientDir: path.join(dir, 'site'),
    env: twilioEnv(preflight),
    log: () => undefined,
  });
  const { secret } = await addDevice(app.lines, { number: DEVICE_NUMBER, clientName: CLIENT, label: 'Back office' });
  const context = await browser.newContext({ viewport: { width: 460, height: 1000 }, locale: 'en-US' });
  await recordAnnouncements(context);
  const page = await context.newPage();
  const session: Session = { app, secret, context, page, tokenRequests: [], errors: [], expectedStatuses: [] };
  page.on('pageerror', (err) => session.errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const status = /status of (\d{3})/.exec(msg.text())?.[1];
    if (status && session.expectedStatuses.includes(Number(status))) return;
    session.errors.push(`console: ${msg.text()}`);
  });
  const entries = new WeakMap<Request, Session['tokenRequests'][number]>();
  page.on('request', (req: Request) => {
    if (req.method() !== 'POST' || req.url() !== app.routeUrls.token) return;
    const entry = { body: req.postDataJSON() as Record<string, unknown> };
    session.tokenRequests.push(entry);
    entries.set(req, entry);
  });
  page.on('response', (res: Response) => {
    const entry = entries.get(res.request());
    if (!entry) return;
    void res
      .json()
      .catch(() => ({}))
      .then((answer: Record<string, unknown>) => {
        entry.answer = answer;
        entry.status = res.status();
      });
  });
  await page.goto(`${app.url}/`);
  await signIn(page, DEVICE_NUMBER, secret, WAIT);
  return session;
}

const control = (page: Page) => page.evaluate(() => (window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest);
const completePreflight = (page: Page, report: Record<string, unknown>) =>
  page.evaluate((r) => (window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest.completePreflight(r), report);
const failPreflight = (page: Page, code: number, message: string) =>
  page.evaluate(([c, m]) => (window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest.failPreflight(c, m), [
    code,
    message,
  ] as const);
async function announced(page: Page, text: string): Promise<void> {
  await page.waitForFunction((t) => (window as unknown as { __announced: string[] }).__announced.includes(t), text, WAIT);
}
const step = (page: Page, id: 'microphone' | 'speaker' | 'network') => page.locator(`#setup-steps [data-step="${id}"]`);
const stepStatus = (page: Page, id: 'microphone' | 'speaker' | 'network', status: string) =>
  step(page, id).and(page.locator(`[data-status="${status}"]`));
/** Resolves once `check` is true (checked every 50 ms), or fails after the wait saying what was awaited. */
async function waitUntil(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const until = Date.now() + WAIT.timeout;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
/** Waits until the page has started its `n`th preflight test (after its token request). */
const preflightStarted = (page: Page, n: number) =>
  page.waitForFunction(
    (count) => (window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest.preflights.length >= count,
    n,
    WAIT,
  );

/** The claims of a JWT (not verified here: the token's signature is the token API's business). */
const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as {
    iat: number;
    exp: number;
    grants: { identity: string; voice?: { incoming?: { allow?: boolean }; outgoing?: { application_sid?: string } } };
  };

/** A completed preflight report as the Voice SDK 2.x gives it (PreflightTest.Report), trimmed. */
const goodReport = {
  callSid: 'CA0123456789abcdef0123456789abcdef',
  callQuality: 'excellent',
  edge: 'tokyo',
  selectedEdge: 'roaming',
  iceCandidateStats: [{ candidateType: 'host', networkType: 'wifi', protocol: 'udp' }],
  isTurnRequired: false,
  networkTiming: { signaling: { start: 1000, end: 1180, duration: 180 } },
  samples: [],
  selectedIceCandidatePairStats: {
    localCandidate: { candidateType: 'host', networkType: 'wifi', protocol: 'udp' },
    remoteCandidate: { candidateType: 'host', protocol: 'udp' },
  },
  stats: { rtt: { average: 48, max: 61, min: 40 }, jitter: { average: 3.2, max: 7, min: 1 }, mos: { average: 4.41, max: 4.43, min: 4.38 } },
  testTiming: { start: 1000, end: 16_000, duration: 15_000 },
  warnings: [],
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-e2e-preflight-'));
  await buildClient({ outdir: path.join(dir, 'site'), e2e: true });
  browser = await launchChromium();
  configured = await openSession('configured', true);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await configured?.app.close();
  await unconfigured?.app.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Test my setup (Chromium, the local app)', () => {
  it('tests the microphone, asks about the speaker (keyboard), then runs a preflight test with a preflight token from the token API', async () => {
    const { page, tokenRequests } = configured;
    const run = page.getByRole('button', { name: 'Test my setup', exact: true });
    expect(await run.getAttribute('aria-describedby')).toBe('setup-hint');
    const signInRequests = tokenRequests.length;
    await run.focus();
    await page.keyboard.press('Enter');

    // Chromium's fake microphone beeps: the page hears it. Then the test sound plays, and the page asks.
    const heard = page.getByRole('button', { name: 'Yes, I heard it', exact: true });
    await heard.waitFor(WAIT);
    expect(await step(page, 'microphone').getAttribute('data-status')).toBe('passed');
    expect(await step(page, 'microphone').locator('.setup-message').textContent()).toBe('Works: it picks up sound.');
    expect(await step(page, 'speaker').locator('.setup-message').textContent()).toBe(SPEAKER_QUESTION);
    await announced(page, 'Microphone: Works: it picks up sound.');
    await announced(page, `Speaker: ${SPEAKER_QUESTION}`);
    expect(await heard.evaluate((e) => e === document.activeElement)).toBe(true);
    expect(await page.getByRole('button', { name: 'Test my setup', exact: true }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Stop the test', exact: true }).isEnabled()).toBe(true);
    await page.keyboard.press('Enter');
    await stepStatus(page, 'speaker', 'passed').waitFor(WAIT);

    // The preflight token: the token API, the sign-in fields and purpose preflight, answered for the echo app.
    await preflightStarted(page, 1);
    await waitUntil(
      'the preflight token request is answered',
      () => tokenRequests.length > signInRequests && tokenRequests.at(-1)?.status !== undefined,
    );
    expect(tokenRequests.slice(signInRequests)).toEqual([
      {
        body: { twilioPhoneNumber: DEVICE_NUMBER, deviceSecret: configured.secret, clientName: CLIENT, purpose: 'preflight' },
        status: 200,
        answer: expect.objectContaining({ success: true, identity: CLIENT, purpose: 'preflight', capabilityToken: expect.any(String) }),
      },
    ]);
    const [preflight] = (await control(page)).preflights;
    expect(preflight).toEqual({ token: tokenRequests.at(-1)?.answer?.capabilityToken, edge: 'roaming', stopped: false });
    const claims = claimsOf(preflight.token);
    expect(claims.grants.identity).toBe(CLIENT);
    expect(claims.grants.voice?.outgoing?.application_sid).toBe(PREFLIGHT_APP_SID); // the echo TwiML App, not the phone's
    expect(claims.grants.voice?.incoming?.allow).not.toBe(true); // a test token takes no calls
    expect(claims.exp - claims.iat).toBe(60);
    // The page's own token (the Device's) is still the phone's.
    expect(claimsOf((await control(page)).tokens.at(-1)!).grants.voice?.outgoing?.application_sid).toBe(TEST_CREDENTIALS.twimlAppSid);

    await step(page, 'network').locator('.setup-message', { hasText: 'Connected to Twilio: measuring the call quality…' }).waitFor(WAIT);
    await completePreflight(page, goodReport);
    await stepStatus(page, 'network', 'passed').waitFor(WAIT);
    expect(await step(page, 'network').locator('.setup-message').textContent()).toBe('Your connection is good for calls.');
    const details = step(page, 'network').locator('.setup-details');
    expect(await details.locator('dt').allTextContents()).toEqual([
      'Network type',
      'Round-trip time (delay)',
      'Jitter (unsteadiness)',
      'Call quality (MOS)',
      'Twilio edge',
    ]);
    expect(await details.locator('dd').allTextContents()).toEqual([
      'Wi-Fi network, a direct connection (UDP).',
      '48 ms on average, at most 61 ms: good.',
      '3 ms on average, at most 7 ms: good.',
      '4.4 out of 5 on average (lowest 4.4): excellent.',
      'Twilio\'s Tokyo location (edge "tokyo"), the nearest one, picked automatically.',
    ]);
    expect(await page.locator('#setup-summary').textContent()).toBe('Test finished: your setup is ready for calls.');
    await announced(page, 'Connection: Your connection is good for calls. Test finished: your setup is ready for calls.');
    // Over: the button is back (and has the focus if the test's controls had it).
    await page.getByRole('button', { name: 'Test my setup', exact: true }).waitFor(WAIT);
  });

  it('says what is wrong in plain words: an unheard speaker and a poor connection through a relay', async () => {
    const { page } = configured;
    await page.getByRole('button', { name: 'Test my setup', exact: true }).click();
    await page.getByRole('button', { name: 'No', exact: true }).click();
    await stepStatus(page, 'speaker', 'failed').waitFor(WAIT);
    expect(await step(page, 'speaker').locator('.setup-message').textContent()).toBe(
      'You did not hear the test sound: check the volume, and that the right speaker is picked in Audio settings.',
    );
    await preflightStarted(page, 2);
    await completePreflight(page, {
      ...goodReport,
      callQuality: 'degraded',
      edge: 'singapore',
      selectedEdge: 'singapore',
      isTurnRequired: true,
      selectedIceCandidatePairStats: { localCandidate: { candidateType: 'relay', relayProtocol: 'tls', networkType: 'cellular' } },
      stats: { rtt: { average: 520, max: 900, min: 300 }, jitter: { average: 45, max: 80, min: 10 }, mos: { average: 2.9, max: 3.4, min: 2.1 } },
    });
    await stepStatus(page, 'network', 'failed').waitFor(WAIT);
    expect(await step(page, 'network').locator('.setup-message').textContent()).toBe(
      'Calls will likely sound bad on this connection: the delay is high, so you may talk over each other; the connection is unsteady, so the audio may be choppy; the measured call quality is low.',
    );
    expect(await step(page, 'network').locator('.setup-details dd').allTextContents()).toEqual([
      'Mobile data network, a connection through a relay server (TURN, over TLS): your network blocks direct connections, which can add delay.',
      '520 ms on average, at most 900 ms: too high.',
      '45 ms on average, at most 80 ms: too high.',
      '2.9 out of 5 on average (lowest 2.1): poor.',
      'Twilio\'s Singapore location (edge "singapore").',
    ]);
    expect(await page.locator('#setup-summary').textContent()).toBe('Test finished: check the speaker and the connection (see the results).');
  });

  it('explains a test call that fails, and can be stopped', async () => {
    const { page } = configured;
    await page.getByRole('button', { name: 'Test my setup', exact: true }).click();
    await page.getByRole('button', { name: 'Yes, I heard it', exact: true }).click();
    await preflightStarted(page, 3);
    await failPreflight(page, 53405, 'Media connection failed.');
    await stepStatus(page, 'network', 'failed').waitFor(WAIT);
    expect(await step(page, 'network').locator('.setup-message').textContent()).toBe(
      "The connection test failed. The test call reached Twilio, but its audio could not get through: a firewall or VPN is probably blocking calls' audio (UDP).",
    );
    expect(await step(page, 'network').locator('.setup-details').isHidden()).toBe(true);

    await page.getByRole('button', { name: 'Test my setup', exact: true }).click();
    await page.getByRole('button', { name: 'Yes, I heard it', exact: true }).click();
    await preflightStarted(page, 4);
    await page.getByRole('button', { name: 'Stop the test', exact: true }).click();
    await waitUntil('the test call is stopped', async () => (await control(page)).preflights[3]?.stopped === true);
    expect(await page.locator('#setup-summary').textContent()).toBe('The test was stopped.');
    expect(await stepStatus(page, 'network', 'failed').locator('.setup-message').textContent()).toBe('The test was stopped.');
  });

  it('a call stops the test (its test call and the microphone are needed for the call); no test during a call', async () => {
    const { page } = configured;
    await page.getByRole('button', { name: 'Test my setup', exact: true }).click();
    await page.getByRole('button', { name: 'Yes, I heard it', exact: true }).click();
    await preflightStarted(page, 5);
    await page.getByLabel('Number to call').fill('090-5987-6543');
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    await page.locator('#call-state[data-phase="in-call"]').waitFor(WAIT);
    await waitUntil('the test call is stopped', async () => (await control(page)).preflights[4]?.stopped === true);
    expect(await page.locator('#setup-summary').textContent()).toBe('Stopped: a call started.');
    expect(await page.getByRole('button', { name: 'Test my setup', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Hang up', exact: true }).click();
    await page.locator('#call-state[data-phase="ended"]').waitFor(WAIT);
    expect(await page.getByRole('button', { name: 'Test my setup', exact: true }).isEnabled()).toBe(true);
  });

  it("without a preflight TwiML App, the token API's 503 is shown in plain words", async () => {
    unconfigured = await openSession('unconfigured', false);
    const { page, tokenRequests } = unconfigured;
    unconfigured.expectedStatuses = [503];
    await page.getByRole('button', { name: 'Test my setup', exact: true }).click();
    await page.getByRole('button', { name: 'Yes, I heard it', exact: true }).click();
    await stepStatus(page, 'network', 'failed').waitFor(WAIT);
    expect(await step(page, 'network').locator('.setup-message').textContent()).toBe(`The connection test could not start. ${NOT_CONFIGURED}`);
    await announced(
      page,
      `Connection: The connection test could not start. ${NOT_CONFIGURED} Test finished: check the connection (see the results).`,
    );
    await waitUntil('the preflight token request is answered', () => tokenRequests.at(-1)?.status !== undefined);
    expect(tokenRequests.at(-1)).toEqual({
      body: expect.objectContaining({ purpose: 'preflight', clientName: CLIENT }),
      status: 503,
      answer: expect.objectContaining({ success: false, error: NOT_CONFIGURED }),
    });
    expect((await control(page)).preflights).toEqual([]);
  });

  it('raised no page errors (no CSP violation: the test sound is a blob the policy allows)', () => {
    expect(configured.errors).toEqual([]);
    expect(unconfigured?.errors ?? []).toEqual([]);
  });
});
