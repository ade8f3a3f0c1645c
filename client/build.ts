/**
 * Bundles the browser softphone with esbuild.
 *
 *   npx tsx client/build.ts [--outdir <dir>] [--e2e] [--no-minify] [--voicemail-poll-ms <ms>]
 *
 * Writes `index.html`, the fallback TwiML (`fallback.xml`, lib/site/fallback.ts) and, under `assets/`, `app-<hash>.js` and `app-<hash>.css` (+ source maps and licences)
 * into `outdir` (default `client/dist`). The content hash in the names lets the site serve every asset as
 * immutable for a year while `index.html` (no-cache) names the current ones, so a deployment reaches every
 * browser at once. `@twilio/voice-sdk` and `libphonenumber-js` are bundled from node_modules: the page loads
 * nothing from a CDN.
 *
 * `e2e: true` swaps exactly one module, the Voice SDK adapter `src/voice/device.ts`, for the test double
 * `src/voice/fake-device.ts`. Nothing else differs; a production build contains no test code.
 *
 * `voicemailPollMs` sets how often the page polls for new voicemails (default 30 s, `src/build-config.ts`), so
 * browser tests see a new message without waiting half a minute.
 */
import * as esbuild from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fallbackTwiml, FALLBACK_TWIML_FILE } from '../lib/site/fallback';
import { ASSETS_DIR } from './build-layout';

export { ASSETS_DIR };

export interface BuildClientOptions {
  outdir: string;
  e2e?: boolean;
  minify?: boolean;
  /** The voicemail poll interval the page is built with (ms); default DEFAULT_VOICEMAIL_POLL_MS. */
  voicemailPollMs?: number;
}

export const DEFAULT_VOICEMAIL_POLL_MS = 30_000;
/** The bounds of `voicemailPollMs`: at least 100 ms (tests), at most an hour. */
export const VOICEMAIL_POLL_MS_RANGE = { min: 100, max: 3_600_000 } as const;

function checkPollMs(ms: number): number {
  if (!Number.isInteger(ms) || ms < VOICEMAIL_POLL_MS_RANGE.min || ms > VOICEMAIL_POLL_MS_RANGE.max) {
    throw new Error(`voicemailPollMs must be a whole number of ms from ${VOICEMAIL_POLL_MS_RANGE.min} to ${VOICEMAIL_POLL_MS_RANGE.max}, got ${ms}`);
  }
  return ms;
}

export interface BuildClientResult {
  metafile: esbuild.Metafile;
  /** The hashed asset paths `index.html` names, relative to `outdir`: `assets/app-<hash>.js` / `.css`. */
  assets: { js: string; css: string };
}

const CLIENT_DIR = __dirname;
const ADAPTER = path.join(CLIENT_DIR, 'src', 'voice', 'device.ts');
const FAKE_ADAPTER = path.join(CLIENT_DIR, 'src', 'voice', 'fake-device.ts');

/** Redirects imports of the Voice SDK adapter to the test double (e2e builds only). */
function fakeDevicePlugin(): esbuild.Plugin {
  return {
    name: 'softphone-fake-device',
    setup(build) {
      build.onResolve({ filter: /(^|\/)voice\/device(\.ts)?$|^\.\/device(\.ts)?$/ }, (args) => {
        const resolved = path.resolve(args.resolveDir, args.path.endsWith('.ts') ? args.path : `${args.path}.ts`);
        return resolved === ADAPTER ? { path: FAKE_ADAPTER } : undefined;
      });
    },
  };
}

export async function buildClient(opts: BuildClientOptions): Promise<BuildClientResult> {
  const outdir = path.resolve(opts.outdir);
  const minify = opts.minify ?? true;
  const pollMs = checkPollMs(opts.voicemailPollMs ?? DEFAULT_VOICEMAIL_POLL_MS);
  await mkdir(outdir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: CLIENT_DIR,
    entryPoints: [
      { in: path.join(CLIENT_DIR, 'src', 'main.ts'), out: 'app' },
      { in: path.join(CLIENT_DIR, 'styles.css'), out: 'app' },
    ],
    outdir,
    entryNames: `${ASSETS_DIR}/[name]-[hash]`,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15', 'edge100'],
    minify,
    sourcemap: true,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'silent',
    define: {
      'process.env.NODE_ENV': '"production"',
      global: 'globalThis',
      SOFTPHONE_VOICEMAIL_POLL_MS: String(pollMs),
    },
    plugins: opts.e2e ? [fakeDevicePlugin()] : [],
  });
  const outputs = Object.keys(result.metafile.outputs).map((o) => path.relative(outdir, path.resolve(CLIENT_DIR, o)).split(path.sep).join('/'));
  const find = (ext: string) => {
    const found = outputs.find((o) => o.startsWith(`${ASSETS_DIR}/app-`) && o.endsWith(ext));
    if (!found) throw new Error(`esbuild wrote no ${ASSETS_DIR}/app-<hash>${ext}`);
    return found;
  };
  const assets = { js: find('.js'), css: find('.css') };
  const html = await readFile(path.join(CLIENT_DIR, 'index.html'), 'utf8');
  const linked = html.replace('href="app.css"', `href="${assets.css}"`).replace('src="app.js"', `src="${assets.js}"`);
  if (!linked.includes(assets.css) || !linked.includes(assets.js)) throw new Error('client/index.html must link app.css and app.js');
  await writeFile(path.join(outdir, 'index.html'), linked);
  await writeFile(path.join(outdir, FALLBACK_TWIML_FILE), fallbackTwiml());
  return { metafile: result.metafile, assets };
}

function parseArgs(argv: string[]): BuildClientOptions {
  const opts: BuildClientOptions = { outdir: path.join(CLIENT_DIR, 'dist') };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--outdir') {
      const value = argv[++i];
      if (!value) throw new Error('--outdir needs a directory');
      opts.outdir = value;
    } else if (arg.startsWith('--outdir=')) {
      opts.outdir = arg.slice('--outdir='.length);
    } else if (arg === '--e2e') {
      opts.e2e = true;
    } else if (arg === '--no-minify') {
      opts.minify = false;
    } else if (arg === '--voicemail-poll-ms') {
      const value = argv[++i];
      if (!value || !/^\d+$/.test(value)) throw new Error('--voicemail-poll-ms needs a number of milliseconds');
      opts.voicemailPollMs = Number(value);
    } else {
      throw new Error(`unknown argument: ${arg} (usage: client/build.ts [--outdir <dir>] [--e2e] [--no-minify] [--voicemail-poll-ms <ms>])`);
    }
  }
  return opts;
}

if (require.main === module) {
  const opts = parseArgs(process.argv.slice(2));
  buildClient(opts).then(
    () => console.log(`softphone client built${opts.e2e ? ' (e2e test double)' : ''} → ${path.resolve(opts.outdir)}`),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
