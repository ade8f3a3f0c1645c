/**
 * The softphone: bytes of a production `buildClient` build (raw and gzip), and the time from navigation to
 * "ready to sign in" in headless Chromium (Debian's /usr/bin/chromium through playwright-core; never a
 * downloaded browser) against the local app.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Metafile } from 'esbuild';
import { buildClient } from '../../client/build';
import { median } from './stats';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface SoftphoneBuild {
  dir: string;
  jsBytes: number;
  jsGzipBytes: number;
  cssBytes: number;
  cssGzipBytes: number;
  metafile?: Metafile;
}

/** A production build (minified, the real Voice SDK adapter) into `outdir`, measured. */
export async function buildSoftphone(outdir: string): Promise<SoftphoneBuild> {
  const result = await buildClient({ outdir, minify: true, e2e: false });
  const js = await readFile(path.join(outdir, result.assets.js));
  const css = await readFile(path.join(outdir, result.assets.css));
  return {
    dir: outdir,
    jsBytes: js.length,
    jsGzipBytes: gzipSync(js, { level: 9 }).length,
    cssBytes: css.length,
    cssGzipBytes: gzipSync(css, { level: 9 }).length,
    metafile: result.metafile,
  };
}

/**
 * "Ready to sign in": the page's script has run and read `config.json` — the softphone then puts the focus in
 * the "Your Twilio number" field — and the "Sign in" button is visible and enabled. (The form itself is static
 * HTML, visible before any script runs, so its mere presence proves nothing.) Installed before any page script
 * (init script, plain JavaScript: a transpiled function could carry helpers the page lacks): re-checked on every DOM mutation and focus change, recording the page's own
 * `performance.now()` the first time it holds, i.e. milliseconds since navigation start.
 */
export const READY_PROBE = `(() => {
  const visible = (e) => !!(e.offsetWidth || e.offsetHeight);
  const ready = () => {
    const signIn = Array.from(document.querySelectorAll('button')).find((b) => /^\\s*sign in\\s*$/i.test(b.textContent || ''));
    if (!signIn || signIn.disabled || !visible(signIn)) return false;
    const active = document.activeElement;
    if (!(active instanceof HTMLInputElement) || active.disabled || !visible(active)) return false;
    return Array.from(active.labels || []).some((l) => /your twilio number/i.test(l.textContent || ''));
  };
  const check = () => {
    if (window.__benchReadyAt === undefined && ready()) {
      window.__benchReadyAt = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  document.addEventListener('focusin', check, true);
  document.addEventListener('DOMContentLoaded', check);
  window.addEventListener('load', check);
})();`;

/**
 * The probe's `__benchReadyAt`, polled from outside the page: the page's Content-Security-Policy forbids
 * `eval`, which `page.waitForFunction` needs in the page; `page.evaluate` runs through the DevTools protocol,
 * which the policy does not govern. The time is the page's own record, so the polling interval adds nothing.
 */
async function pollReadyAt(page: import('playwright-core').Page, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // (a context destroyed by the navigation still under way: ask the next one)
    const at = await page.evaluate(() => (window as unknown as { __benchReadyAt?: number }).__benchReadyAt).catch(() => undefined);
    if (typeof at === 'number') return at;
    if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Median time from navigation to ready-to-sign-in over `runs` fresh browser contexts (cold cache each). */
export async function measureReady(url: string, runs: number): Promise<{ readyMs: number; samples: number[] }> {
  const { hostname } = new URL(url);
  if (hostname !== '127.0.0.1') throw new Error(`refusing to browse ${hostname}: the benchmark targets 127.0.0.1 only`);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  try {
    // One unmeasured navigation: warms the server and the OS caches, not the page's HTTP cache.
    const samples: number[] = [];
    for (let run = -1; run < runs; run++) {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.addInitScript({ content: READY_PROBE });
        await page.goto(url, { waitUntil: 'commit' });
        const ms = await pollReadyAt(page, 15_000).catch((e: Error) => {
          throw new Error(`the softphone never became ready to sign in (${e.message.split('\n')[0]}); page errors: ${errors.join('; ') || 'none'}`);
        });
        if (run >= 0) samples.push(ms);
      } finally {
        await context.close();
      }
    }
    return { readyMs: median(samples), samples };
  } finally {
    await browser.close();
  }
}
