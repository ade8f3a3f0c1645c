/**
 * E2E harness: the e2e-built softphone served as a second origin by the app's own static-file module
 * (`lib/local/static-site.ts`: the site's content types, Cache-Control and path checks), with a `config.json`
 * pointing at the API; and a voicemail's audio (a real MP3 the browser plays). Chromium and the shared data come
 * from `test/support/fixtures.ts`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { staticSite } from '../../lib/local/static-site';

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
