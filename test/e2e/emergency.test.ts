/**
 * Emergency numbers on the page, in Debian's Chromium against the REAL local app (as `softphone.test.ts`): a
 * Japanese device dialling 110 is told on screen, and through the live region, that emergency calls are not
 * possible from this phone, and no call is placed (the Voice SDK test double records no `connect`). The
 * browser's locale is en-US, so the number is judged by the DEVICE's country (Japan), not the browser's.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { EMERGENCY_REFUSAL } from '../../lambda/core/emergency';
import type { LocalApp } from '../../lib/local/app';
import { DEVICE_CLIENT, DEVICE_NUMBER, launchChromium, type SoftphoneTestControl } from '../support/fixtures';
import { closeAll, signIn, startSiteAndApp, type StaticSite } from './harness';

let dir: string;
let app: LocalApp;
let site: StaticSite;
let browser: Browser;
let page: Page;
let secret: string;
const pageErrors: string[] = [];

const control = () => page.evaluate(() => (window as unknown as { __softphoneTest: SoftphoneTestControl }).__softphoneTest);
const callState = () => page.locator('#call-state');
const dial = () => page.getByLabel('Number to call');
const pressCall = () => page.getByRole('button', { name: 'Call', exact: true }).click();
/** Waits until the page has put something in the (blanked) call state: whatever it says, the test then reads. */
const answered = () => page.waitForFunction(() => (document.getElementById('call-state')?.textContent ?? '') !== '', undefined, { timeout: 5000 });
/** Waits until the live region says `text` (the page clears it, then sets it, so a repeat is announced again). */
const announced = (text: string) => page.waitForFunction((t) => document.getElementById('announcer')?.textContent === t, text, { timeout: 5000 });

/**
 * Types a number as a person does, after blanking the call state and the live region, so what a test reads
 * there afterwards is what ITS call attempt put there.
 */
async function typeNumber(text: string): Promise<void> {
  await page.evaluate(() => {
    for (const id of ['call-state', 'announcer']) document.getElementById(id)!.textContent = '';
  });
  await dial().fill('');
  await dial().click();
  await dial().pressSequentially(text);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-e2e-emergency-'));
  ({ site, app, secret } = await startSiteAndApp(dir));

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 460, height: 760 }, locale: 'en-US' });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}`);
  });
  await page.goto(`${site.origin}/`);

  await signIn(page, DEVICE_NUMBER, secret);
}, 120_000);

afterAll(() => closeAll({ browser, app, site, dir }));

describe('emergency numbers on the page (a Japanese device, an en-US browser)', () => {
  it('110: shows and announces the refusal and places no call', async () => {
    expect((await control()).identity).toBe(DEVICE_CLIENT); // signed in through the real token API
    await typeNumber('110');
    await pressCall();
    await answered();
    expect(await callState().textContent()).toBe(EMERGENCY_REFUSAL);
    await announced(EMERGENCY_REFUSAL);
    expect(await page.locator('#announcer').getAttribute('aria-live')).toBe('polite');
    expect((await control()).connects).toEqual([]);
    expect(await callState().getAttribute('data-phase')).not.toBe('in-call');
  });

  it.each(['119', '112', '911'])('%s: the same refusal, no call', async (number) => {
    await typeNumber(number);
    await pressCall();
    await answered();
    expect(await callState().textContent()).toBe(EMERGENCY_REFUSAL);
    await announced(EMERGENCY_REFUSAL);
    expect((await control()).connects).toEqual([]);
  });

  it('an ordinary number still calls (the refusal is for emergency numbers only)', async () => {
    await typeNumber('09059876543');
    await pressCall();
    await page.locator('#call-state[data-phase="in-call"]').waitFor();
    expect((await control()).connects).toEqual([{ callOutgoingPhoneNumber: '+819059876543', callerPhoneNumber: DEVICE_NUMBER }]);
    await page.getByRole('button', { name: 'Hang up', exact: true }).click();
    await page.locator('#call-state[data-phase="ended"]').waitFor();
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
