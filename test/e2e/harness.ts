/**
 * E2E harness: the e2e-built softphone served as a second origin by the app's own static-file module
 * (`lib/local/static-site.ts`: the site's content types, Cache-Control and path checks), with a `config.json`
 * pointing at the API. Chromium and the shared data come from `test/support/fixtures.ts`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { staticSite } from '../../lib/local/static-site';

export interface StaticSite {
  origin: string;
  close(): Promise<void>;
}

/** Serves `dir` on 127.0.0.1 (any free port) plus a `config.json` pointing at `apiBaseUrl`. */
export async function serveSite(dir: string, config: () => { apiBaseUrl: string }): Promise<StaticSite> {
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
