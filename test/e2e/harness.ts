/**
 * E2E harness: the e2e-built softphone served as a second origin by the app's own static-file module
 * (`lib/local/static-site.ts`: the site's content types, Cache-Control and path checks), with a `config.json`
 * pointing at the API; and a voicemail's audio (a real MP3 the browser plays). Chromium and the shared data come
 * from `test/support/fixtures.ts`.
 */
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildClient } from '../../client/build';
import { addDevice } from '../../lib/devices/device-admin';
import { type LocalApp, startLocalApp } from '../../lib/local/app';
import { staticSite } from '../../lib/local/static-site';
import { DEVICE_CLIENT, DEVICE_NUMBER, TEST_CREDENTIALS } from '../support/fixtures';

export interface StaticSite {
  origin: string;
  close(): Promise<void>;
}

/** Serves `dir` on 127.0.0.1 (any free port) plus a `config.json` pointing at `apiBaseUrl` (and any other fields, e.g. `edge`). */
export async function serveSite(dir: string, config: () => { apiBaseUrl: string; [field: string]: unknown }): Promise<StaticSite> {
  const site = await staticSite({ root: dir, config });
  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    site(req, res, pathname).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The e2e-built page served from `dir`/site as a second origin, the REAL local app (registry in `dir`/registry,
 * the test credentials, CORS for the site's origin) behind its `config.json` (plus any `config` fields, e.g.
 * `edge`), and the walkthrough's device registered on it (label `e2e`) with its secret. `env` is the app's
 * environment (default `process.env`). What was started is closed again if a later step fails.
 */
export async function startSiteAndApp(
  dir: string,
  opts: { config?: Record<string, unknown>; env?: NodeJS.ProcessEnv } = {},
): Promise<{ site: StaticSite; app: LocalApp; secret: string }> {
  const siteDir = path.join(dir, 'site');
  await buildClient({ outdir: siteDir, e2e: true });
  let apiBaseUrl = '';
  const site = await serveSite(siteDir, () => ({ apiBaseUrl, ...opts.config }));
  let app: LocalApp | undefined;
  try {
    app = await startLocalApp({
      port: 0,
      host: '127.0.0.1',
      registryPath: path.join(dir, 'registry'),
      credentials: TEST_CREDENTIALS,
      allowedOrigin: site.origin,
      ...(opts.env ? { env: opts.env } : {}),
      log: () => undefined,
    });
    apiBaseUrl = app.apiBaseUrl;
    const { secret } = await addDevice(app.lines, { number: DEVICE_NUMBER, clientName: DEVICE_CLIENT, label: 'e2e' });
    return { site, app, secret };
  } catch (err) {
    await app?.close();
    await site.close();
    throw err;
  }
}

/**
 * `seconds` of silence as a real MP3 (MPEG-1 Layer III, 64 kbit/s, 44.1 kHz, mono): frames of a header and all-zero
 * side information and main data, which decoders play as silence. Browsers play it, so the page's audio element
 * really starts (and a voicemail is marked heard when played). Same input, same bytes.
 */
export function silentMp3(seconds: number): Buffer {
  // 1152 samples per frame; 144 * bitrate / sample rate bytes per frame (208 without the padding byte).
  const frames = Math.ceil((seconds * 44_100) / 1152);
  const frame = Buffer.alloc(208);
  frame.set([0xff, 0xfb, 0x50, 0xc0]); // sync, MPEG-1, Layer III, no CRC | 64 kbit/s, 44.1 kHz, no padding | mono
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}

/** Signs in on the page with the walkthrough's fields, then waits until the Device is registered ("Ready"). */
export async function signIn(page: Page, number: string, secret: string, wait?: { timeout: number }): Promise<void> {
  await page.getByLabel('Your Twilio number').fill(number);
  await page.getByLabel('Device secret').fill(secret);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#reg-status[data-state="ready"]').waitFor(wait);
}

/**
 * Records everything the page's polite live region (`#announcer`) says, in order, in `window.__announced` (a
 * MutationObserver installed before the page's script runs): a message counts even if the next one replaced it
 * before a poll saw it.
 */
export async function recordAnnouncements(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const said: string[] = [];
    (window as unknown as { __announced: string[] }).__announced = said;
    document.addEventListener('DOMContentLoaded', () => {
      const region = document.getElementById('announcer');
      if (!region) return;
      new MutationObserver(() => {
        const text = region.textContent ?? '';
        if (text) said.push(text);
      }).observe(region, { childList: true, characterData: true, subtree: true });
    });
  });
}

/** Closes what a test file started, in order (the browser, the app, the site), any of them absent, then removes `dir`. */
export async function closeAll(opened: { browser?: Browser; app?: LocalApp; site?: StaticSite; dir?: string }): Promise<void> {
  await opened.browser?.close();
  await opened.app?.close();
  await opened.site?.close();
  if (opened.dir) await rm(opened.dir, { recursive: true, force: true });
}
