/**
 * The softphone's static files over node:http, as the deployed site serves them: `GET`/`HEAD` only, the
 * site's Cache-Control (hashed assets immutable, the page and `config.json` revalidated), nosniff, no path
 * outside the root (traversal, NUL, backslashes and symlinks out refused), and a generated `config.json`.
 * Used by the local app and by the e2e tests' second origin.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import type { HttpResponse } from '../api/gateway';
import { cacheControlFor } from '../site/cache-control';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.wasm': 'application/wasm',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Writes a whole response (HEAD: headers only). */
export function send(res: ServerResponse, response: HttpResponse, head = false): void {
  const body = Buffer.from(response.body, 'utf8');
  res.writeHead(response.statusCode, { ...response.headers, 'Content-Length': String(body.length) });
  res.end(head ? undefined : body);
}

export interface StaticSiteOptions {
  /** the directory served (index.html and assets/) */
  root: string;
  /** the `config.json` for this request (e.g. `{apiBaseUrl}` from the Host it was reached at) */
  config: (req: IncomingMessage) => unknown;
  /** sent with every answer, e.g. the site's security headers (lib/site/security-headers.ts) */
  headers?: Record<string, string>;
}

/** A request handler for the site; resolves to the status it answered. */
export async function staticSite(opts: StaticSiteOptions): Promise<(req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<number>> {
  const root = await realpath(opts.root).catch(() => path.resolve(opts.root));
  const always = opts.headers ?? {};
  return async (req, res, pathname) => {
    const head = req.method === 'HEAD';
    const plain = (status: number, text: string, extra: Record<string, string> = {}): number => {
      send(res, { statusCode: status, headers: { ...always, 'Content-Type': 'text/plain; charset=utf-8', ...extra }, body: `${text}\n` }, head);
      return status;
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
    if (pathname === '/config.json') {
      const headers = { ...always, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': cacheControlFor(pathname) };
      send(res, { statusCode: 200, headers, body: JSON.stringify(opts.config(req)) }, head);
      return 200;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return plain(400, 'Bad Request');
    }
    if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((s) => s === '..')) return plain(403, 'Forbidden');
    let file = path.resolve(root, `.${decoded}`);
    if (file !== root && !file.startsWith(root + path.sep)) return plain(403, 'Forbidden');
    try {
      let st = await stat(file);
      if (st.isDirectory()) {
        file = path.join(file, 'index.html');
        st = await stat(file);
      }
      const real = await realpath(file);
      if (!real.startsWith(root + path.sep) || !st.isFile()) return plain(404, 'Not Found');
      res.writeHead(200, {
        ...always,
        'Content-Type': contentTypeFor(file),
        'Content-Length': String(st.size),
        'Cache-Control': cacheControlFor(decoded),
        'X-Content-Type-Options': 'nosniff',
      });
      if (head) res.end();
      else await new Promise<void>((resolve, reject) => createReadStream(real).on('error', reject).on('end', resolve).pipe(res));
      return 200;
    } catch {
      if (res.headersSent) {
        res.destroy();
        return 500;
      }
      return plain(404, 'Not Found');
    }
  };
}
