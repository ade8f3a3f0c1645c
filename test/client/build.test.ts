import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildClient, DEFAULT_VOICEMAIL_POLL_MS } from '../../client/build';
import { VOICEMAIL_POLL_MS } from '../../client/src/build-config';

const MARKER = '__softphoneTest';
const BUDGET_GZIP_BYTES = 200 * 1024;

describe('client build', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'softphone-build-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes index.html naming content-hashed assets/app-<hash>.js and .css, and the fallback TwiML; the bundle holds no test code and fits the budget', async () => {
    const out = path.join(dir, 'prod');
    const { metafile, assets } = await buildClient({ outdir: out });
    expect(assets.js).toMatch(/^assets\/app-[A-Z0-9]{8}\.js$/);
    expect(assets.css).toMatch(/^assets\/app-[A-Z0-9]{8}\.css$/);
    expect(await readdir(out)).toEqual(expect.arrayContaining(['index.html', 'fallback.xml', 'assets']));
    // what Twilio fetches (GET) when a webhook fails or is throttled (lib/site/fallback.ts)
    expect(await readFile(path.join(out, 'fallback.xml'), 'utf8')).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US">Sorry, we cannot take your call right now. Please try again later.</Say><Hangup/></Response>',
    );
    expect(await readdir(path.join(out, 'assets'))).toEqual(expect.arrayContaining([path.basename(assets.js), path.basename(assets.css)]));
    const js = await readFile(path.join(out, assets.js), 'utf8');
    expect(js).not.toContain(MARKER);
    expect(js).not.toContain('fake-device');
    expect(Object.keys(metafile.inputs).some((p) => p.includes('fake-device'))).toBe(false);
    expect(Object.keys(metafile.inputs).some((p) => p.includes('@twilio/voice-sdk'))).toBe(true);
    const html = await readFile(path.join(out, 'index.html'), 'utf8');
    expect(html).toContain(`<script defer src="${assets.js}"></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="${assets.css}">`);
    expect(html).not.toMatch(/src="https?:/); // everything from our own origin
    const gzip = gzipSync(js).length + gzipSync(await readFile(path.join(out, assets.css))).length;
    expect(gzip).toBeLessThan(BUDGET_GZIP_BYTES);
  }, 60_000);

  it('e2e builds swap only the Voice SDK adapter for the test double', async () => {
    const out = path.join(dir, 'e2e');
    const { metafile, assets } = await buildClient({ outdir: out, e2e: true, minify: false });
    const js = await readFile(path.join(out, assets.js), 'utf8');
    expect(js).toContain(MARKER);
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.some((p) => p.includes('fake-device'))).toBe(true);
    expect(inputs.some((p) => p.endsWith('voice/device.ts'))).toBe(false);
    expect(inputs.some((p) => p.includes('@twilio/voice-sdk'))).toBe(false);
  }, 60_000);

  it('a changed source changes the asset names; the same source builds the same names', async () => {
    const a = await buildClient({ outdir: path.join(dir, 'a') });
    const b = await buildClient({ outdir: path.join(dir, 'b') });
    const e2e = await buildClient({ outdir: path.join(dir, 'c'), e2e: true });
    expect(b.assets).toEqual(a.assets);
    expect(e2e.assets.js).not.toBe(a.assets.js);
  }, 60_000);

  it('builds the voicemail poll interval in: 30 s unless told (tests poll faster); nonsense is refused', async () => {
    expect(DEFAULT_VOICEMAIL_POLL_MS).toBe(30_000);
    expect(VOICEMAIL_POLL_MS).toBe(DEFAULT_VOICEMAIL_POLL_MS); // the sources' own default, when nothing is defined
    const pollOf = async (out: string, voicemailPollMs?: number) => {
      const { assets } = await buildClient({ outdir: path.join(dir, out), minify: false, ...(voicemailPollMs ? { voicemailPollMs } : {}) });
      const js = await readFile(path.join(dir, out, assets.js), 'utf8');
      expect(js).not.toContain('SOFTPHONE_VOICEMAIL_POLL_MS');
      // esbuild folds the defined constant: `VOICEMAIL_POLL_MS = true ? 3e4 : 3e4`
      const value = /VOICEMAIL_POLL_MS = (?:true \? )?([0-9.e]+)/.exec(js)?.[1];
      return value === undefined ? undefined : Number(value);
    };
    expect(await pollOf('poll-default')).toBe(30_000);
    expect(await pollOf('poll-fast', 250)).toBe(250);
    for (const bad of [0, 50, 1.5, 4_000_000]) {
      await expect(buildClient({ outdir: path.join(dir, 'poll-bad'), voicemailPollMs: bad })).rejects.toThrow(/voicemailPollMs/);
    }
  }, 60_000);
});
