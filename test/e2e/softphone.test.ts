/**
 * The softphone end to end, in Debian's Chromium, against the REAL local app (`startLocalApp`): the token
 * is fetched through the real API (VTL templates, handler, registry, signed JWT) over CORS from a second
 * origin. Only the Voice SDK Device is a test double (`client/src/voice/fake-device.ts`), because Twilio's
 * cloud cannot be reached from here.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LocalApp } from '../../lib/local/app';
import { DEVICE_CLIENT, DEVICE_NUMBER, launchChromium, type SoftphoneTestControl } from '../support/fixtures';
import { closeAll, startSiteAndApp, type StaticSite } from './harness';
// The README's screenshot is refreshed on request (`UPDATE_SCREENSHOT=1 npx jest test/e2e`); otherwise the
// test still takes one, into its temp dir, so a plain `npm test` leaves the work tree clean.
const screenshotPath = () => (process.env.UPDATE_SCREENSHOT ? path.resolve(__dirname, '../../docs/softphone.png') : path.join(dir, 'softphone.png'));

let dir: string;
let app: LocalApp;
let site: StaticSite;
let browser: Browser;
let page: Page;
let secret: string;
const pageErrors: string[] = [];
const tokenRequests: Array<{ url: string; origin?: string; allowOrigin?: string; status?: number }> = [];
/** The page API's requests (voicemails, directory): cross-origin, with the Access Token as a Bearer token. */
const pageApiRequests: Array<{ url: string; body?: unknown; authorization?: string; origin?: string; allowOrigin?: string; status?: number }> = [];
/** Reading a response's headers is asynchronous: the last token request, once its headers are in. */
const headerReads: Promise<void>[] = [];
const lastTokenRequest = async () => {
  await Promise.all(headerReads);
  return tokenRequests.at(-1);
};

const control = () => page.evaluate(() => (window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest);
const test = (fn: string, ...args: unknown[]) =>
  page.evaluate(
    ([name, a]) =>
      (window as unknown as { __softphoneTest: Record<string, (...x: unknown[]) => void> }).__softphoneTest[name as string](...(a as unknown[])),
    [fn, args] as const,
  );
const callState = () => page.locator('#call-state');

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-e2e-'));
  ({ site, app, secret } = await startSiteAndApp(dir));

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 460, height: 760 }, deviceScaleFactor: 1, locale: 'ja-JP' });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // The browser itself logs the refused token request of the wrong-secret test; that one is expected.
    const expected403 = msg.location().url.endsWith('/twilio/retrieve_capability_token') && msg.text().includes('403');
    if (msg.type() === 'error' && !expected403) pageErrors.push(`console: ${msg.text()}`);
  });
  page.on('response', (res) => {
    if (res.url().startsWith(`${app.apiBaseUrl}/softphone/`) && res.request().method() === 'POST') {
      const entry: (typeof pageApiRequests)[number] = { url: res.url(), body: res.request().postDataJSON(), status: res.status() };
      pageApiRequests.push(entry);
      headerReads.push(
        Promise.all([res.request().allHeaders(), res.allHeaders()]).then(([req, resp]) => {
          entry.origin = req.origin;
          entry.authorization = req.authorization;
          entry.allowOrigin = resp['access-control-allow-origin'];
        }),
      );
    }
    if (res.url().endsWith('/twilio/retrieve_capability_token') && res.request().method() === 'POST') {
      const entry: (typeof tokenRequests)[number] = { url: res.url(), status: res.status() };
      tokenRequests.push(entry);
      headerReads.push(
        Promise.all([res.request().allHeaders(), res.allHeaders()]).then(([req, resp]) => {
          entry.origin = req.origin;
          entry.allowOrigin = resp['access-control-allow-origin'];
        }),
      );
    }
  });
  await page.goto(`${site.origin}/`);
}, 120_000);

afterAll(() => closeAll({ browser, app, site, dir }));

describe('softphone in Chromium against the local app', () => {
  it('shows a wrong secret clearly', async () => {
    await page.getByLabel('Your Twilio number').fill(DEVICE_NUMBER);
    await page.getByLabel('Device secret').fill('definitely-not-the-secret');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = page.locator('#signin-error');
    await alert.waitFor({ state: 'visible' });
    expect(await alert.textContent()).toMatch(/secret/i);
    expect(await page.locator('#reg-status').textContent()).toBe('Error');
    expect(await page.locator('#phone').isHidden()).toBe(true);
    expect(await lastTokenRequest()).toMatchObject({ status: 403, origin: site.origin, allowOrigin: site.origin });
  });

  it('signs in with a token fetched from the real API over CORS', async () => {
    await page.getByLabel('Device secret').fill(secret);
    await page.getByLabel('Remember this device').check();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('#reg-status[data-state="ready"]').waitFor();
    expect(await page.locator('#reg-status').textContent()).toBe('Ready');
    expect(await lastTokenRequest()).toMatchObject({
      url: `${app.apiBaseUrl}/twilio/retrieve_capability_token`,
      origin: site.origin,
      allowOrigin: site.origin,
      status: 200,
    });
    expect(new URL(app.apiBaseUrl).origin).not.toBe(site.origin);
    const c = await control();
    expect(c.identity).toBe(DEVICE_CLIENT); // the JWT the API signed carries the device's identity
    expect(await page.evaluate(() => localStorage.getItem('softphone.device'))).toContain(DEVICE_NUMBER);
  });

  it('loads the voicemail inbox and the team from the page API over CORS, with the Access Token', async () => {
    await page.locator('#vm-status', { hasText: 'No voicemail.' }).waitFor();
    await page.locator('#team-line', { hasText: '050-3123-4567' }).waitFor();
    expect(await page.locator('#team-empty').textContent()).toBe('Nobody else is on this line yet.');
    expect(await page.locator('#team-list li').count()).toBe(0);
    expect(await page.locator('#vm-badge').isHidden()).toBe(true);
    // Playwright may report a response after the page has acted on it: wait for both to be recorded.
    const recorded = () =>
      ['/softphone/voicemails', '/softphone/directory'].every((p) => pageApiRequests.some((r) => r.url === `${app.apiBaseUrl}${p}`));
    for (const until = Date.now() + 20_000; !recorded() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    await Promise.all(headerReads);
    const token = (await control()).tokens.at(-1);
    for (const path of ['/softphone/voicemails', '/softphone/directory']) {
      expect(pageApiRequests.find((r) => r.url === `${app.apiBaseUrl}${path}`)).toMatchObject({
        status: 200,
        origin: site.origin,
        allowOrigin: site.origin,
        authorization: `Bearer ${token}`,
      });
    }
    expect(pageApiRequests.find((r) => r.url.endsWith('/softphone/voicemails'))?.body).toEqual({ action: 'list' });
  });

  it('formats the number as it is typed (national format) and takes the screenshot', async () => {
    const dial = page.getByLabel('Number to call');
    await dial.click();
    await dial.pressSequentially('0905987654');
    await page.locator('#pad [data-key="3"]').click();
    expect(await dial.inputValue()).toBe('090-5987-6543');
    await page.screenshot({ path: screenshotPath(), fullPage: true });
  });

  it('calls, sends DTMF, mutes and hangs up', async () => {
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    await page.locator('#call-state[data-phase="in-call"]').waitFor();
    expect((await control()).connects.at(-1)).toEqual({ callOutgoingPhoneNumber: '+819059876543', callerPhoneNumber: DEVICE_NUMBER });
    expect(await page.locator('#call-number').textContent()).toBe('090-5987-6543');

    await page.locator('#pad [data-key="1"]').click();
    await page.locator('#pad [data-key="#"]').click();
    await page.keyboard.press('5');
    expect((await control()).digits).toBe('1#5');
    expect(await page.getByLabel('Number to call').inputValue()).toBe('090-5987-6543'); // DTMF does not edit the number

    await page.getByRole('button', { name: 'Mute', exact: true }).click();
    expect((await control()).muted).toBe(true);
    expect(await page.locator('#mute').getAttribute('aria-pressed')).toBe('true');
    await page.getByRole('button', { name: 'Unmute', exact: true }).click();
    expect((await control()).muted).toBe(false);
    await page.waitForFunction(() => /^\d+:\d\d$/.test(document.getElementById('call-timer')?.textContent ?? ''));

    await page.getByRole('button', { name: 'Hang up', exact: true }).click();
    expect(await callState().textContent()).toBe('Call ended: You hung up');
    // (Recent calls come from the server's call log: test/e2e/call-log.test.ts)
    expect(await page.locator('#announcer').getAttribute('aria-live')).toBe('polite');
  });

  it('accepts an incoming call, rings, and shows the remote hang-up', async () => {
    await test('incoming', '+819011112222');
    const panel = page.getByRole('alertdialog', { name: 'Incoming call', exact: true });
    await panel.waitFor();
    expect(await page.locator('#incoming-from').textContent()).toBe('090-1111-2222');
    expect(await page.evaluate(() => document.body.dataset.ringing)).toBe('true');
    await page.getByRole('button', { name: 'Accept', exact: true }).click();
    await page.locator('#call-state[data-phase="in-call"]').waitFor();
    expect(await panel.isHidden()).toBe(true);
    expect(await page.evaluate(() => document.body.dataset.ringing)).toBe('false');
    await test('remoteHangup');
    await page.locator('#call-state[data-phase="ended"]').waitFor();
    expect(await callState().textContent()).toBe('Call ended: The other side hung up');
  });

  it('rejects an incoming call', async () => {
    await test('incoming', '+819033334444');
    await page.getByRole('alertdialog', { name: 'Incoming call', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Reject', exact: true }).click();
    expect(await callState().textContent()).toBe('Call ended: Call rejected');
    expect((await control()).rejected).toBe(1);
  });

  it('refreshes the token through the API without a reload', async () => {
    const before = (await control()).tokens.length;
    await test('tokenWillExpire');
    await page.waitForFunction((n) => (window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest.tokens.length > n, before);
    expect(tokenRequests.at(-1)?.status).toBe(200);
  });

  it('signs out and forgets the device', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.locator('#signin').waitFor();
    expect(await page.evaluate(() => localStorage.getItem('softphone.device'))).toBeNull();
    expect(await page.locator('#reg-status').textContent()).toBe('Signed out');
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
