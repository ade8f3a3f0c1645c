/**
 * Bundles the browser softphone with esbuild.
 *
 *   npx tsx client/build.ts [--outdir <dir>] [--e2e] [--no-minify]
 *
 * Writes `index.html`, `app.js` (+ `app.js.map`) and `app.css` into `outdir` (default `client/dist`).
 * `@twilio/voice-sdk` and `libphonenumber-js` are bundled from node_modules: the page loads nothing from a CDN.
 *
 * `e2e: true` swaps exactly one module, the Voice SDK adapter `src/voice/device.ts`, for the test double
 * `src/voice/fake-device.ts`. Nothing else differs; a production build contains no test code.
 */
import * as esbuild from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import * as path from 'node:path';

export interface BuildClientOptions {
  outdir: string;
  e2e?: boolean;
  minify?: boolean;
}

export interface BuildClientResult {
  metafile: esbuild.Metafile;
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
  await mkdir(outdir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: CLIENT_DIR,
    entryPoints: [
      { in: path.join(CLIENT_DIR, 'src', 'main.ts'), out: 'app' },
      { in: path.join(CLIENT_DIR, 'styles.css'), out: 'app' },
    ],
    outdir,
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
    },
    plugins: opts.e2e ? [fakeDevicePlugin()] : [],
  });
  await copyFile(path.join(CLIENT_DIR, 'index.html'), path.join(outdir, 'index.html'));
  return { metafile: result.metafile };
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
    } else {
      throw new Error(`unknown argument: ${arg} (usage: client/build.ts [--outdir <dir>] [--e2e] [--no-minify])`);
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
