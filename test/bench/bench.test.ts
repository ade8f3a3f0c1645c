/**
 * The benchmark's pieces work: one bundling definition for CDK and esbuild, bundles load as handlers, the warm
 * probe times a bundle, the JSON output has the documented shape, the report prints budgets. Shapes only:
 * timings are the benchmark's business, not the tests'.
 *
 * Two sizes, chosen by SOFTPHONE_LOAD_TEST: `npm test` (unset) runs each piece once at its smallest size (one
 * bundle's cold init, a few warm invocations, one real hash) and a bench run of no part for the JSON shape — a
 * few seconds even while another CPU-heavy job runs; `npm run test:load` (`full`) adds the `--quick` run of the
 * whole Lambda part (every bundle, cold init, warm probes, real hashes).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { parseBenchArgs } from '../../bin/bench';
import {
  AWS_SDK_BUNDLED,
  AWS_SDK_EXTERNALS,
  LAMBDA_ALIASES,
  LAMBDA_ENTRY,
  routeBundlingOptions,
  lambdaEsbuildOptions,
} from '../../lib/lambda-bundling';
import {
  LAMBDA_ENTRIES,
  buildHelpersBundle,
  buildLambdaBundle,
  bundleComposition,
  coldInitOnce,
  measureWarm,
  moduleOf,
} from '../../lib/bench/lambdas';
import { evaluateBudgets, formatReport } from '../../lib/bench/report';
import { runBench, type BenchReport } from '../../lib/bench/run';
import { median, quantile } from '../../lib/bench/stats';

const FULL = process.env.SOFTPHONE_LOAD_TEST === 'full';
/** Only under `npm run test:load`. */
const itFull = FULL ? it : it.skip;

jest.setTimeout(FULL ? 120_000 : 30_000);

describe('lib/lambda-bundling: one definition for the CDK and the benchmark', () => {
  it('gives the CDK and esbuild the same settings', () => {
    const es = lambdaEsbuildOptions('callIncoming', '/tmp/out/index.js');
    const lambdaBundlingOptions = routeBundlingOptions('callIncoming');
    expect(es.entryPoints).toEqual([LAMBDA_ENTRY]);
    expect(lambdaBundlingOptions.define).toEqual(es.define);
    expect(es.define).toEqual({ SOFTPHONE_ROUTE_ID: '"callIncoming"' });
    expect(es.target).toBe('node24'); // the functions' runtime, nodejs24.x (test/infra/stack.test.ts)
    expect(lambdaBundlingOptions.target).toBe(es.target);
    expect(lambdaBundlingOptions.minify).toBe(true);
    expect(es.minify).toBe(true);
    expect(lambdaBundlingOptions.sourceMap).toBe(true);
    expect(es.sourcemap).toBe(true);
    expect(lambdaBundlingOptions.sourcesContent).toBe(es.sourcesContent);
    expect(lambdaBundlingOptions.format).toBe(OutputFormat.CJS);
    expect(es.format).toBe('cjs');
    expect(es.platform).toBe('node');
    expect(es.bundle).toBe(true);
    expect(lambdaBundlingOptions.mainFields).toEqual(es.mainFields);
    expect(lambdaBundlingOptions.externalModules).toEqual(es.external);
    expect(lambdaBundlingOptions.bundleAwsSDK).toBe(AWS_SDK_BUNDLED);
    expect(es.external).toEqual(AWS_SDK_BUNDLED ? [] : AWS_SDK_EXTERNALS);
    const cdkAliases = (lambdaBundlingOptions.esbuildArgs?.['--alias'] as string[] | undefined) ?? [];
    expect(cdkAliases).toEqual(Object.entries(es.alias ?? {}).map(([from, to]) => `${from}=${to}`));
    expect(Object.keys(es.alias ?? {})).toEqual(Object.keys(LAMBDA_ALIASES));
  });

  it('lets experiments flip the AWS SDK choice without touching the deployed settings', () => {
    expect(lambdaEsbuildOptions('token', 'o.js', { externalAwsSdk: true }).external).toEqual(AWS_SDK_EXTERNALS);
    expect(lambdaEsbuildOptions('token', 'o.js', { externalAwsSdk: false }).external).toEqual([]);
    expect(lambdaEsbuildOptions('token', 'o.js').metafile).toBe(false);
  });
});

describe('benchmark pieces', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'bench-test-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('bundles an entry into one file that loads in a fresh node process and exports a handler', async () => {
    const entry = LAMBDA_ENTRIES.find((e) => e.route === 'callIncoming')!;
    const built = await buildLambdaBundle(entry.route, path.join(work, 'incoming'));
    expect(built.bytes).toBeGreaterThan(1000);
    const shares = bundleComposition(built.metafile);
    expect(shares.length).toBeGreaterThan(1);
    expect(shares.some((s) => s.module.startsWith('lambda/'))).toBe(true);
    const ms = await coldInitOnce(built.file);
    expect(typeof ms).toBe('number');
    expect(ms).toBeGreaterThan(0);
  });

  it('the warm probe invokes a bundle with mocked AWS clients: the secret is fetched once per container, a real hash is timed on its own', async () => {
    const helpers = await buildHelpersBundle(path.join(work, 'helpers'));
    // as the benchmark builds them for the probe: the AWS SDK external, so the mocks reach the bundle's clients
    const incoming = await buildLambdaBundle('callIncoming', path.join(work, 'warm-incoming'), { externalAwsSdk: true });
    const warm = await measureWarm(incoming.file, helpers, 'callIncoming', 5, 1);
    for (const key of ['firstUs', 'p50Us', 'p99Us', 'totalP50Us', 'totalP99Us'] as const) expect(warm[key]).toBeGreaterThan(0);
    expect(warm.scryptP50Us).toBeUndefined();
    expect(warm.secretFetches).toBe(1);
    expect(warm.secretFetchesAfterWarmup).toBe(0);

    const token = await buildLambdaBundle('token', path.join(work, 'warm-token'), { externalAwsSdk: true });
    const real = await measureWarm(token.file, helpers, 'token', 1, 1);
    expect(real.scryptP50Us).toBeGreaterThan(0);
    expect(real.secretFetchesAfterWarmup).toBe(0);

    // the report prints the hash's own line from such a result
    const report = await runBench({ quick: true, parts: [], variants: false });
    const text = formatReport({ ...report, details: { ...report.details, tokenRealHash: real } });
    expect(text).toContain('device-secret hash (scrypt, on its own');
  });

  it('a run of no part prints exactly the documented JSON shape, every figure null and every budget unjudged', async () => {
    const report = await runBench({ quick: true, parts: [], variants: false });
    expect(report.details.errors).toEqual([]);
    const json = expectDocumentedShape(report);
    for (const l of json.lambdas) for (const key of LAMBDA_FIGURES) expect(l[key]).toBeNull();
    expect(Object.values(json.softphone)).toEqual([null, null, null]);
    expect(Object.values(json.localServer)).toEqual([null, null]);
    expect(evaluateBudgets(report).map((b) => b.pass)).toEqual(evaluateBudgets(report).map(() => null));
    expect(formatReport(report)).toContain('n/a');
  });

  itFull('the quick run of the Lambda part prints exactly the documented JSON shape, with figures', async () => {
    const report = await runBench({ quick: true, parts: ['lambdas'], variants: false });
    expect(report.details.errors).toEqual([]);
    const json = expectDocumentedShape(report);
    for (const l of json.lambdas) for (const key of LAMBDA_FIGURES) expect(typeof l[key]).toBe('number');
    // Parts not run are null, not missing.
    expect(json.softphone.jsBytes).toBeNull();
    expect(json.localServer.requestsPerSecond).toBeNull();
    // The token handler's hash is reported on its own.
    expect(report.details.tokenRealHash?.scryptP50Us).toEqual(expect.any(Number));
    for (const w of Object.values(report.details.warm)) expect(w.secretFetchesAfterWarmup).toBe(0);

    const text = formatReport(report);
    expect(text).toContain('device-secret hash (scrypt, on its own');
    expect(text).toMatch(/PASS|FAIL/);
    const budgets = evaluateBudgets(report);
    expect(budgets.filter((b) => b.subject === 'app.js').every((b) => b.pass === null)).toBe(true);
    expect(budgets.filter((b) => b.subject === 'call-incoming').every((b) => typeof b.pass === 'boolean')).toBe(true);
  });
});

const LAMBDA_FIGURES = ['bundleBytes', 'coldInitMs', 'referenceColdInitMs', 'warmP50Us', 'warmP99Us'] as const;

/** The JSON `npm run bench -- --json` prints has exactly the documented keys (through JSON, as printed). */
function expectDocumentedShape(report: BenchReport): BenchReport['json'] {
  const json = JSON.parse(JSON.stringify(report.json)) as BenchReport['json'];
  expect(Object.keys(json).sort()).toEqual(['lambdas', 'localServer', 'softphone']);
  expect(json.lambdas.map((l) => l.name)).toEqual(LAMBDA_ENTRIES.map((e) => e.name));
  for (const l of json.lambdas) expect(Object.keys(l).sort()).toEqual(['name', ...LAMBDA_FIGURES].sort());
  expect(Object.keys(json.softphone).sort()).toEqual(['jsBytes', 'jsGzipBytes', 'readyMs']);
  expect(Object.keys(json.localServer).sort()).toEqual(['p99Ms', 'requestsPerSecond']);
  return json;
}

describe('helpers', () => {
  it('parses the CLI flags', () => {
    expect(parseBenchArgs(['--json', '--quick', '--only', 'lambdas,local'])).toEqual({ json: true, quick: true, parts: ['lambdas', 'local'] });
    expect(parseBenchArgs([]).parts).toEqual(['lambdas', 'softphone', 'local']);
    expect(() => parseBenchArgs(['--only', 'nope'])).toThrow(/--only/);
    expect(() => parseBenchArgs(['--bogus'])).toThrow(/unknown argument/);
  });

  it('computes medians and nearest-rank quantiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(hundred, 0.5)).toBe(50);
    expect(quantile(hundred, 0.99)).toBe(99);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });

  it('attributes bundle inputs to packages', () => {
    expect(moduleOf('node_modules/@aws-sdk/client-dynamodb/dist-es/index.js')).toBe('@aws-sdk/client-dynamodb');
    expect(moduleOf('node_modules/twilio/lib/jwt/AccessToken.js')).toBe('twilio/lib/jwt');
    expect(moduleOf('node_modules/a/node_modules/semver/index.js')).toBe('semver');
    expect(moduleOf('lambda/core/phone.ts')).toBe('lambda/core');
  });
});
