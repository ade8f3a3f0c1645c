/**
 * Issue 16 during and after a call, in Debian's Chromium against the REAL local app (its token API over CORS from
 * a second origin, as in softphone.test.ts): config.json's `edge` reaches the Device with a signalling
 * reconnection time; a call survives a dropped signalling connection and a media drop; the Voice SDK's call
 * quality warnings are shown in plain words and announced; an answered call can be rated (keyboard only), the
 * rating going to Twilio with `call.postFeedback`. The Voice SDK is the test double (`client/src/voice/fake-device.ts`),
 * driven through `window.__softphoneTest`.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWarning } from '../../client/src/quality';
import type { LocalApp } from '../../lib/local/app';
import { DEVICE_NUMBER, launchChromium, type SoftphoneTestControl } from '../support/fixtures';
import { closeAll, recordAnnouncements, signIn, startSiteAndApp, type StaticSite } from './harness';

/** Generous waits: the tests wait for conditions, never for a time, and must pass on a loaded machine. */
const WAIT = { timeout: 20_000 };
jest.setTimeout(120_000);

const CALLEE = '090-5987-6543';

let dir: string;
let app: LocalApp;
let site: StaticSite;
let browser: Browser;
let page: Page;
let secret: string;
const pageErrors: string[] = [];
const consoleWarnings: string[] = [];

type Control = SoftphoneTestControl;
const control = () => page.evaluate(() => (window as unknown as { __softphoneTest: Control }).__softphoneTest);
const drive = (fn: keyof Control, ...args: unknown[]) =>
  page.evaluate(
    ([name, a]) =>
      (window as unknown as { __softphoneTest: Record<string, (...x: unknown[]) => void> }).__softphoneTest[name as string](...(a as unknown[])),
    [fn, args] as const,
  );
const setControl = (patch: Partial<Pick<Control, 'autoAnswer' | 'feedbackError'>>) =>
  page.evaluate((p) => Object.assign((window as unknown as { __softphoneTest: Control }).__softphoneTest, p), patch);

/**
 * Everything the polite live region said, in order (a MutationObserver installed before the page's script runs):
 * a message counts even if the next one replaced it before a poll saw it.
 */
const announcements = () => page.evaluate(() => (window as unknown as { __announced: string[] }).__announced);
async function announced(text: string): Promise<void> {
  await page.waitForFunction((t) => (window as unknown as { __announced: string[] }).__announced.includes(t), text, WAIT);
}
const callState = () => page.locator('#call-state');

async function placeCall(): Promise<void> {
  await page.getByLabel('Number to call').fill(CALLEE);
  await page.getByRole('button', { name: 'Call', exact: true }).click();
  await page.locator('#call-state[data-phase="in-call"]').waitFor(WAIT);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-e2e-quality-'));
  // Two edges the SDK knows (one in capitals) around one it does not: the page keeps the known ones, in order.
  ({ site, app, secret } = await startSiteAndApp(dir, {
    config: { edge: ['Tokyo', 'atlantis', 'singapore'] },
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
  }));

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 460, height: 900 }, locale: 'ja-JP' });
  await recordAnnouncements(context);
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}`);
    if (msg.type() === 'warning') consoleWarnings.push(msg.text());
  });
  await page.goto(`${site.origin}/`);
}, 120_000);

afterAll(() => closeAll({ browser, app, site, dir }));

describe('call quality on the page (Chromium, the local app)', () => {
  it("creates the Device with config.json's known edges, in order, and a signalling reconnection time", async () => {
    await signIn(page, DEVICE_NUMBER, secret, WAIT);
    expect((await control()).deviceOptions).toEqual({ edge: ['tokyo', 'singapore'], maxCallSignalingTimeoutMs: 30_000 });
    expect(consoleWarnings).toEqual([expect.stringMatching(/^config\.json: ignoring the edge "atlantis": not a Twilio edge/)]);
  });

  it('keeps a call through a dropped signalling connection, and says so', async () => {
    await placeCall();
    const before = await control();
    const saidBefore = (await announcements()).length;
    await drive('dropSignalling');
    const label = 'Reconnecting… The connection to the phone service dropped; the call stays on while it comes back.';
    await page.locator('#call-state', { hasText: label }).waitFor(WAIT);
    await announced(label);
    expect(await page.locator('#reg-status').getAttribute('data-state')).toBe('offline');
    expect(await page.getByRole('button', { name: 'Hang up', exact: true }).isEnabled()).toBe(true);

    await drive('restoreSignalling');
    await announced('Call reconnected.');
    await page.locator('#reg-status[data-state="ready"]').waitFor(WAIT);
    expect(await callState().textContent()).toBe('In call');
    expect(await callState().getAttribute('data-phase')).toBe('in-call');
    // The same call: nothing hung up, nothing dialled again.
    const after = await control();
    expect(after.disconnected).toBe(before.disconnected);
    expect(after.connects).toHaveLength(before.connects.length);
    // During the call, the phone coming back is not announced over the call.
    expect((await announcements()).slice(saidBefore)).not.toContain('Phone ready.');
  });

  it("keeps a call through a media drop (the audio's connection), and says so", async () => {
    await drive('dropMedia');
    const label = "Reconnecting… The call's audio connection dropped; the call stays on while it comes back.";
    await page.locator('#call-state', { hasText: label }).waitFor(WAIT);
    await announced(label);
    // (ice-connectivity-lost is said by the call status, not listed as a quality problem)
    expect(await page.locator('#call-warnings').isHidden()).toBe(true);
    await drive('restoreMedia');
    await page.locator('#call-state', { hasText: /^In call$/ }).waitFor(WAIT);
    await page.waitForFunction(
      () => (window as unknown as { __announced: string[] }).__announced.filter((a) => a === 'Call reconnected.').length === 2,
      undefined,
      WAIT,
    );
  });

  it("shows the SDK's call quality warnings in plain words while they last, and announces them", async () => {
    const list = page.getByRole('list', { name: 'Call quality problems' });
    await drive('warn', 'high-packet-loss');
    await list.waitFor(WAIT);
    await announced(describeWarning('high-packet-loss').problem);
    expect(await list.getByRole('listitem').allTextContents()).toEqual([
      'Your connection is losing audio (packet loss): parts of the call may cut out.',
    ]);

    await drive('warn', 'constant-audio-input-level');
    await announced(describeWarning('constant-audio-input-level').problem);
    expect(await list.getByRole('listitem').allTextContents()).toEqual([
      'Your connection is losing audio (packet loss): parts of the call may cut out.',
      'Your microphone is not picking up any sound: check that it is plugged in, switched on and not muted, or pick another in Audio settings.',
    ]);

    await drive('clearWarning', 'high-packet-loss');
    await announced('Your connection has stopped losing audio.');
    expect(await list.getByRole('listitem').allTextContents()).toEqual([describeWarning('constant-audio-input-level').problem]);

    await drive('warn', 'high-rtt');
    await drive('warn', 'high-jitter');
    await announced(describeWarning('high-jitter').problem);
    expect(await list.getByRole('listitem').count()).toBe(3);
    expect(await list.isVisible()).toBe(true);
  });

  it('after the call, the warnings go and an optional rating is offered; it is keyboard usable and checked', async () => {
    await page.getByRole('button', { name: 'Hang up', exact: true }).click();
    await page.locator('#call-state[data-phase="ended"]').waitFor(WAIT);
    expect(await page.locator('#call-warnings').isHidden()).toBe(true);
    const rating = page.getByRole('form', { name: /How was the call\?/ });
    await rating.waitFor(WAIT);
    const scores = page.getByRole('group', { name: /How was the call\?/ });
    expect(await scores.getByRole('radio').count()).toBe(5);
    expect(await page.getByLabel('What went wrong?').inputValue()).toBe('');

    // Sending without a score says what is missing.
    await page.getByRole('button', { name: 'Send rating', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Pick a rating from 1 to 5, or choose No thanks.' }).waitFor(WAIT);
    expect(await page.getByRole('radio', { name: '1 Very bad' }).evaluate((e) => e === document.activeElement)).toBe(true);
    expect((await control()).feedback).toEqual([]);

    // Arrow keys pick the score; Tab reaches the problem and the buttons.
    await page.keyboard.press('Space');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('radio', { name: '4 Good' }).isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    expect(await page.getByLabel('What went wrong?').evaluate((e) => e === document.activeElement)).toBe(true);
    await page.getByLabel('What went wrong?').selectOption({ label: 'The audio was choppy or broken up' });
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await announced('Thanks: your rating was sent.');
    expect((await control()).feedback).toEqual([{ score: 4, issue: 'choppy-audio' }]);
    expect(await rating.isHidden()).toBe(true);
    expect(await page.locator('#rating-thanks').isVisible()).toBe(true);
    expect(await page.getByLabel('Number to call').evaluate((e) => e === document.activeElement)).toBe(true);
  });

  it('a rating that cannot be sent says why and can be sent again; "No thanks" tells Twilio the user declined', async () => {
    await placeCall();
    expect(await page.locator('#rating-thanks').isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Hang up', exact: true }).click();
    await page.getByRole('form', { name: /How was the call\?/ }).waitFor(WAIT);
    // A fresh form: nothing picked from the last call.
    expect(await page.getByRole('radio', { checked: true }).count()).toBe(0);
    await setControl({ feedbackError: 'Insights unreachable' });
    await page.getByRole('radio', { name: '2 Bad' }).check();
    await page.getByRole('button', { name: 'Send rating', exact: true }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'Your rating could not be sent: Insights unreachable. Try again, or choose No thanks.' })
      .waitFor(WAIT);
    expect((await control()).feedback).toHaveLength(1);

    await setControl({ feedbackError: undefined });
    await page.getByRole('button', { name: 'No thanks', exact: true }).click();
    await page.getByRole('form', { name: /How was the call\?/ }).waitFor({ state: 'hidden', ...WAIT });
    await page.waitForFunction(() => (window as unknown as { __softphoneTest: Control }).__softphoneTest.feedback.length === 2, undefined, WAIT);
    expect((await control()).feedback.at(-1)).toEqual({});
    expect(await page.getByLabel('Number to call').evaluate((e) => e === document.activeElement)).toBe(true);
  });

  it('does not ask about a call nobody answered', async () => {
    await setControl({ autoAnswer: false });
    await page.getByLabel('Number to call').fill(CALLEE);
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    await page.locator('#call-state[data-phase="connecting"]').waitFor(WAIT);
    await drive('remoteHangup');
    await page.locator('#call-state', { hasText: 'Call ended: No answer' }).waitFor(WAIT);
    expect(await page.locator('#rating').isHidden()).toBe(true);
    await setControl({ autoAnswer: true });
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
