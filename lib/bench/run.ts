/**
 * `npm run bench`: orchestrates the measurements and returns the report (JSON shape of issue 6 + details).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Plugin } from 'esbuild';
import { AWS_SDK_BUNDLED, type LambdaEsbuildOverrides } from '../lambda-bundling';
import {
  LAMBDA_ENTRIES,
  REPO_ROOT,
  buildHelpersBundle,
  buildLambdaBundle,
  bundleComposition,
  lambdaEntry,
  lambdaEnv,
  measureColdInit,
  measureWarm,
  type BuiltBundle,
  type BundleShare,
  type ColdTarget,
  type LambdaEntry,
  type WarmResult,
} from './lambdas';
import {
  benchRequests,
  checkBenchRequests,
  type HashBound,
  type HostileBodyResult,
  hostileBodyDelay,
  measureHashBound,
  loadTest,
  startBenchLocalApp,
  waitForIdle,
  type LoadResult,
  type RunningLocalApp,
} from './local-server';
import { type BundleContentsVerdict, checkBundleContents } from './bundle-contents';
import { buildSoftphone, measureReady, type SoftphoneBuild } from './softphone';
import { round } from './stats';
import { minPhoneMetadata, twilioAccessToken, withoutXmlbuilder } from './what-if';

export type BenchPart = 'lambdas' | 'softphone' | 'local';
export const ALL_PARTS: readonly BenchPart[] = ['lambdas', 'softphone', 'local'];

export interface BenchOptions {
  /** A tiny run (seconds): checks that every piece works; figures are meaningless. */
  quick: boolean;
  parts: readonly BenchPart[];
  /** Compare bundling variants (SDK bundled vs external, minify, mainFields, source maps). Default: !quick. */
  variants?: boolean;
  progress?: (line: string) => void;
}

/** The JSON object `npm run bench -- --json` prints (issue 6), exactly this shape. */
export interface BenchJson {
  lambdas: {
    name: string;
    bundleBytes: number | null;
    coldInitMs: number | null;
    referenceColdInitMs: number | null;
    warmP50Us: number | null;
    warmP99Us: number | null;
  }[];
  softphone: { jsBytes: number | null; jsGzipBytes: number | null; readyMs: number | null };
  localServer: { requestsPerSecond: number | null; p99Ms: number | null };
}

export interface VariantFigure {
  id: string;
  label: string;
  group: 'choice' | 'what-if';
  /** The deployed bundle this is a variant of. */
  base: string;
  bytes?: number;
  coldInitMs: number;
}

export interface BenchDetails {
  node: string;
  /** The machine: its cores and its 1-minute load average when the run started and ended (elapsed times want it quiet). */
  machine: { cpus: number; model: string; loadStart: number; loadEnd?: number };
  quick: boolean;
  settings: { coldRuns: number; warmIterations: Record<string, number>; loadSeconds: number; connections: number; browserRuns: number };
  sdkChoice: 'bundled' | 'external';
  referenceDeepColdInitMs?: number;
  warm: Record<string, WarmResult>;
  /** Token handler with every device-secret hash computed for real (the hash's own line). */
  tokenRealHash?: WarmResult;
  /** Token handler (hash memoized) with the JWT signed by Twilio's AccessToken instead of jws (a choice's alternative). */
  tokenMemoizedTwilioJwt?: WarmResult;
  composition: Record<string, BundleShare[]>;
  /** Each deployed bundle's modules against what its handler uses (bundle-contents.ts). */
  bundleContents?: Record<string, BundleContentsVerdict>;
  variants: VariantFigure[];
  softphone?: SoftphoneBuild & { readySamples: number[]; composition: BundleShare[] };
  load: Record<string, LoadResult>;
  /** A signed webhook's delay while a hostile 1.2 MB body is refused (issue 13). */
  hostileBody?: HostileBodyResult;
  /** The device-secret hash on this machine: what bounds the token endpoint (measured before its load run). */
  hashBound?: HashBound;
  errors: string[];
}

export interface BenchReport {
  json: BenchJson;
  details: BenchDetails;
}

const CONNECTIONS = 50;
/**
 * The quick run's load: a few connections, so that even a sign-in (one deliberate ~80 ms hash, queued behind the
 * others') completes within its short run and every endpoint is seen answering under load.
 */
const QUICK_CONNECTIONS = 4;

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const progress = opts.progress ?? (() => undefined);
  const variants = opts.variants ?? !opts.quick;
  const settings = {
    coldRuns: opts.quick ? 1 : 11,
    warmIterations: opts.quick ? { token: 3, twiml: 30 } : { token: 200, twiml: 5000 },
    loadSeconds: opts.quick ? 2 : 5,
    connections: opts.quick ? QUICK_CONNECTIONS : CONNECTIONS,
    browserRuns: opts.quick ? 1 : 7,
  };
  const work = await mkdtemp(path.join(os.tmpdir(), 'twilio-softphone-bench-'));
  const json: BenchJson = {
    lambdas: LAMBDA_ENTRIES.map((e) => ({
      name: e.name,
      bundleBytes: null,
      coldInitMs: null,
      referenceColdInitMs: null,
      warmP50Us: null,
      warmP99Us: null,
    })),
    softphone: { jsBytes: null, jsGzipBytes: null, readyMs: null },
    localServer: { requestsPerSecond: null, p99Ms: null },
  };
  const details: BenchDetails = {
    node: process.version,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model.trim() ?? 'unknown', loadStart: round(os.loadavg()[0], 2) },
    quick: opts.quick,
    settings: { ...settings, warmIterations: { ...settings.warmIterations } },
    sdkChoice: AWS_SDK_BUNDLED ? 'bundled' : 'external',
    warm: {},
    composition: {},
    variants: [],
    load: {},
    errors: [],
  };
  const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
      details.errors.push(message);
      progress(`ERROR ${message}`);
    }
  };

  try {
    if (opts.parts.includes('lambdas')) await attempt('lambdas', () => benchLambdas(work, json, details, settings, variants, progress));
    let app: RunningLocalApp | undefined;
    let softphoneDir: string | undefined;
    try {
      if (opts.parts.includes('softphone')) {
        await attempt('softphone build', async () => {
          progress('building the softphone (production)');
          const built = await buildSoftphone(path.join(work, 'softphone'));
          softphoneDir = built.dir;
          json.softphone.jsBytes = built.jsBytes;
          json.softphone.jsGzipBytes = built.jsGzipBytes;
          details.softphone = {
            ...built,
            metafile: undefined,
            readySamples: [],
            composition: built.metafile ? bundleComposition(built.metafile) : [],
          };
        });
      }
      if (opts.parts.includes('local') || (opts.parts.includes('softphone') && softphoneDir)) {
        await attempt('local app', async () => {
          progress('starting the local app');
          app = await startBenchLocalApp({ registryPath: path.join(work, 'registry'), clientDir: softphoneDir });
        });
      }
      if (app && softphoneDir && opts.parts.includes('softphone')) {
        const running = app;
        await attempt('softphone ready', async () => {
          progress(`headless Chromium: ${settings.browserRuns} navigation(s) to ready-to-sign-in`);
          const ready = await measureReady(`${running.url}/`, settings.browserRuns);
          json.softphone.readyMs = round(ready.readyMs, 1);
          if (details.softphone) details.softphone.readySamples = ready.samples.map((s) => round(s, 1));
        });
      }
      if (app && opts.parts.includes('local')) {
        const running = app;
        await attempt('local load', () => benchLocal(running, json, details, { ...settings, quick: opts.quick }, progress));
      }
    } finally {
      if (app) await app.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  details.machine.loadEnd = round(os.loadavg()[0], 2);
  return { json, details };
}

interface VariantSpec {
  id: string;
  label: string;
  group: 'choice' | 'what-if';
  entry: LambdaEntry;
  overrides?: LambdaEsbuildOverrides;
  plugins?: Plugin[];
  env?: NodeJS.ProcessEnv;
  /** Measure the deployed bundle itself (with `env`) instead of building one. */
  deployedBundle?: boolean;
}

/** What each bundling choice buys (alternatives of the deployed settings) and what recommended code changes would buy. */
function variantSpecs(): VariantSpec[] {
  const token = lambdaEntry('token');
  const sdkAlt = AWS_SDK_BUNDLED ? 'external (runtime’s)' : 'bundled';
  const specs: VariantSpec[] = LAMBDA_ENTRIES.map((e) => ({
    id: `${e.name}:sdk-alt`,
    label: `${e.name}: AWS SDK ${sdkAlt}`,
    group: 'choice',
    entry: e,
    overrides: { externalAwsSdk: AWS_SDK_BUNDLED },
  }));
  specs.push(
    { id: `${token.name}:unminified`, label: `${token.name}: not minified`, group: 'choice', entry: token, overrides: { minify: false } },
    {
      id: `${token.name}:main-first`,
      label: `${token.name}: CDK default mainFields (CJS builds)`,
      group: 'choice',
      entry: token,
      overrides: { mainFields: ['main', 'module'] },
    },
    {
      id: `${token.name}:enable-source-maps`,
      label: `${token.name}: NODE_OPTIONS=--enable-source-maps`,
      group: 'choice',
      entry: token,
      deployedBundle: true,
      env: lambdaEnv({ NODE_OPTIONS: '--enable-source-maps' }),
    },
  );
  // `-c detailedTracing=true`: Powertools Tracer bundled and, as in Lambda with active tracing, loaded at init.
  for (const e of LAMBDA_ENTRIES) {
    specs.push({
      id: `${e.name}:detailed-tracing`,
      label: `${e.name}: detailedTracing (Powertools Tracer and the X-Ray SDK)`,
      group: 'choice',
      entry: e,
      overrides: { detailedTracing: true },
      env: lambdaEnv({ POWERTOOLS_TRACE_ENABLED: 'true' }),
    });
  }
  // What remains between a function and 20% of the reference, were a well-kept library replaced (not deployed).
  for (const e of LAMBDA_ENTRIES.filter((entry) => entry.id === 'callOutgoing' || entry.id === 'callAction')) {
    specs.push({
      id: `${e.name}:min-metadata`,
      label: `${e.name}: libphonenumber-js min metadata (no number types: no premium-rate refusal)`,
      group: 'what-if',
      entry: e,
      plugins: [minPhoneMetadata()],
    });
  }
  for (const e of LAMBDA_ENTRIES.filter((entry) => entry.kind === 'twiml')) {
    specs.push({
      id: `${e.name}:without-xmlbuilder`,
      label: `${e.name}: XML written by hand, not xmlbuilder`,
      group: 'what-if',
      entry: e,
      plugins: [withoutXmlbuilder()],
    });
  }
  specs.push({
    id: `${token.name}:twilio-access-token`,
    label: `${token.name}: Twilio's AccessToken (jsonwebtoken), not jws`,
    group: 'choice',
    entry: token,
    plugins: [twilioAccessToken()],
  });
  return specs;
}

async function benchLambdas(
  work: string,
  json: BenchJson,
  details: BenchDetails,
  settings: { coldRuns: number; warmIterations: { token: number; twiml: number } },
  variants: boolean,
  progress: (line: string) => void,
): Promise<void> {
  progress('bundling the Lambda entries (the stack’s esbuild settings)');
  const bundles = new Map<string, BuiltBundle>();
  for (const e of LAMBDA_ENTRIES) {
    const built = await buildLambdaBundle(e.id, path.join(work, 'lambda', e.name));
    bundles.set(e.name, built);
    details.composition[e.name] = bundleComposition(built.metafile);
    details.bundleContents = { ...details.bundleContents, [e.name]: checkBundleContents(e.id, built.metafile) };
    json.lambdas.find((l) => l.name === e.name)!.bundleBytes = built.bytes;
  }

  const targets: ColdTarget[] = [
    { id: 'reference', file: path.join(__dirname, 'harness', 'reference.cjs') },
    ...LAMBDA_ENTRIES.map((e) => ({ id: e.name, file: bundles.get(e.name)!.file })),
  ];
  const variantInfo: Omit<VariantFigure, 'coldInitMs'>[] = [];
  if (variants) {
    progress('bundling the variants and what-ifs');
    targets.push({ id: 'reference-deep', file: path.join(__dirname, 'harness', 'reference-deep.cjs') });
    for (const v of variantSpecs()) {
      const deployed = bundles.get(v.entry.name)!;
      const built = v.deployedBundle
        ? deployed
        : await buildLambdaBundle(v.entry.id, path.join(work, 'variants', v.id.replace(/[^a-z0-9-]/gi, '_')), v.overrides, v.plugins);
      targets.push({ id: v.id, file: built.file, env: v.env });
      variantInfo.push({ id: v.id, label: v.label, group: v.group, base: v.entry.name, bytes: built.bytes });
    }
  }

  progress(`cold init: ${targets.length} targets × ${settings.coldRuns} fresh node processes, interleaved`);
  const cold = await measureColdInit(targets, settings.coldRuns, progress);
  const reference = cold.get('reference')!;
  for (const row of json.lambdas) {
    row.coldInitMs = round(cold.get(row.name)!, 1);
    row.referenceColdInitMs = round(reference, 1);
  }
  if (cold.has('reference-deep')) details.referenceDeepColdInitMs = round(cold.get('reference-deep')!, 1);
  details.variants = variantInfo.map((v) => ({ ...v, coldInitMs: round(cold.get(v.id)!, 1) }));

  // Warm: bundles with the AWS SDK external, so aws-sdk-client-mock stubs the clients they use. Every function
  // but the deploy-time registry upgrade (no caller waits on it; its bundle and cold init are measured above).
  const helpers = await buildHelpersBundle(path.join(work, 'helpers'));
  const warmBundles = new Map<string, string>();
  for (const e of LAMBDA_ENTRIES.filter((entry) => entry.warm)) {
    const warmBundle = AWS_SDK_BUNDLED
      ? (await buildLambdaBundle(e.id, path.join(work, 'warm', e.name), { externalAwsSdk: true })).file
      : bundles.get(e.name)!.file;
    warmBundles.set(e.name, warmBundle);
    // The token handler's row: its own cost, the hash memoized (computed once, then served on the next tick).
    // Like the TwiML rows, whose mocked I/O never waits. The real hash is measured on its own just below.
    const iterations = settings.warmIterations.twiml;
    const warmup = Math.max(1, Math.round(iterations / 10));
    progress(`warm: ${e.name}, ${warmup} warm-up + ${iterations} timed invocations${e.kind === 'token' ? ' (hash memoized)' : ''}`);
    await attemptInto(details, progress, async () => {
      const warm = await measureWarm(warmBundle, helpers, e.id, iterations, warmup, { memoizeScrypt: e.kind === 'token' });
      details.warm[e.name] = warm;
      const row = json.lambdas.find((l) => l.name === e.name)!;
      row.warmP50Us = round(warm.p50Us, 1);
      row.warmP99Us = round(warm.p99Us, 1);
    });
  }
  // The token handler with every hash computed for real: the hash's own cost, and the rest of the request
  // with the time inside scrypt subtracted (which still carries the wake-up after a ~80 ms wait).
  const token = lambdaEntry('token');
  const realIterations = settings.warmIterations.token;
  progress(`warm: ${token.name}, ${realIterations} invocations with the real device-secret hash`);
  await attemptInto(details, progress, async () => {
    details.tokenRealHash = await measureWarm(
      warmBundles.get(token.name)!,
      helpers,
      'token',
      realIterations,
      Math.max(1, Math.round(realIterations / 20)),
    );
  });
  if (variants) {
    const iterations = settings.warmIterations.twiml;
    progress(`warm: ${token.name} with Twilio's AccessToken signing the JWT (not jws), ${iterations} invocations (hash memoized)`);
    await attemptInto(details, progress, async () => {
      const jwtBundle = await buildLambdaBundle(token.id, path.join(work, 'warm', 'twilio-jwt'), { externalAwsSdk: true }, [twilioAccessToken()]);
      details.tokenMemoizedTwilioJwt = await measureWarm(jwtBundle.file, helpers, 'token', iterations, iterations / 10, { memoizeScrypt: true });
    });
  }
}

async function attemptInto(details: BenchDetails, progress: (line: string) => void, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    details.errors.push(message);
    progress(`ERROR ${message}`);
  }
}

/** Load before each measured window of the local app: its JIT warms up, as a long-running `npm start` is. */
const LOCAL_WARMUP_SECONDS = 5;
/** The longest the token endpoint's warm-up or window may be made to fit the hash (see benchLocal). */
const TOKEN_MAX_SECONDS = 30;

async function benchLocal(
  app: RunningLocalApp,
  json: BenchJson,
  details: BenchDetails,
  settings: { loadSeconds: number; connections: number; quick: boolean },
  progress: (line: string) => void,
): Promise<void> {
  /** A run in which no request completed measured nothing (autocannon counts completed requests only): say so. */
  const noneCompleted = (id: string, result: LoadResult): boolean => {
    if (result.requests > 0) return false;
    const message = `load: ${id}: no request completed within the ${result.windowSeconds.toFixed(0)} s measured at ${settings.connections} connections (each took longer than the run)`;
    details.errors.push(message);
    progress(`ERROR ${message}`);
    return true;
  };
  const webhookWarmup = settings.quick ? 1 : LOCAL_WARMUP_SECONDS;
  const requests = benchRequests(app.apiBaseUrl);
  progress('local app: checking each request’s answer');
  await checkBenchRequests(app.url, requests);
  for (const id of ['callIncoming', 'callOutgoing'] as const) {
    await waitForIdle(app.url, requests.callIncoming);
    progress(`load: ${id}, ${settings.connections} connections, ${webhookWarmup} s warm-up + ${settings.loadSeconds} s measured`);
    details.load[id] = await loadTest(app.url, [requests[id]], {
      connections: settings.connections,
      durationSeconds: settings.loadSeconds,
      warmupSeconds: webhookWarmup,
    });
    noneCompleted(id, details.load[id]);
  }
  // The token endpoint is bound by its hash: at 50 connections an answer takes about connections ÷ hashes per
  // second (seconds), so its warm-up lasts that long and more (the queue fills) and its window twice that.
  progress('the device-secret hash on this machine (the token endpoint’s bound)');
  const bound = await measureHashBound(settings.quick ? { lone: 1, parallel: 4 } : {});
  details.hashBound = bound;
  const answerSeconds = settings.connections / Math.min(bound.perSecond, bound.measuredPerSecond);
  const tokenWarmup = Math.min(TOKEN_MAX_SECONDS, Math.max(webhookWarmup, Math.ceil(1.5 * answerSeconds)));
  const tokenWindow = Math.min(TOKEN_MAX_SECONDS, Math.max(settings.loadSeconds, Math.ceil(2 * answerSeconds)));
  await waitForIdle(app.url, requests.callIncoming);
  progress(`load: token, ${settings.connections} connections, ${tokenWarmup} s warm-up + ${tokenWindow} s measured`);
  details.load.token = await loadTest(app.url, [requests.token], {
    connections: settings.connections,
    durationSeconds: tokenWindow,
    warmupSeconds: tokenWarmup,
  });
  noneCompleted('token', details.load.token);
  await waitForIdle(app.url, requests.callIncoming);
  progress(`load: all three endpoints mixed, ${settings.connections} connections, ${tokenWarmup} s warm-up + ${tokenWindow} s measured`);
  const mixed = await loadTest(app.url, [requests.token, requests.callIncoming, requests.callOutgoing], {
    connections: settings.connections,
    durationSeconds: tokenWindow,
    warmupSeconds: tokenWarmup,
  });
  details.load.mixed = mixed;
  if (!noneCompleted('mixed', mixed)) {
    json.localServer.requestsPerSecond = round(mixed.requestsPerSecond, 1);
    json.localServer.p99Ms = round(mixed.p99Ms, 1);
  }
  await waitForIdle(app.url, requests.callIncoming);
  progress('hostile body: signed webhooks while 400,000 parameters in 1.2 MB are refused');
  details.hostileBody = await hostileBodyDelay(app.url, requests.callIncoming);
}

export { REPO_ROOT };
