/**
 * The benchmark's pieces work: one bundling definition for CDK and esbuild, bundles load as handlers, the warm
 * probe times a bundle, the JSON output has the documented shape, the report prints budgets. Shapes only:
 * timings are the benchmark's business, not the tests'.
 *
 * Two sizes, chosen by SOFTPHONE_LOAD_TEST: `npm test` (unset) runs each piece once at its smallest size (one
 * bundle's cold init, a few warm invocations, one real hash, each function's warm probe event answered as its
 * check expects) and a bench run of no part for the JSON shape; `npm run test:load` (`full`) adds the `--quick`
 * run of the whole Lambda part (every bundle, cold init, warm probes, real hashes) and the local load test's
 * requests against the local app.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { parseBenchArgs } from '../../bin/bench';
import * as FUNCTION_DEPS from '../../lambda/adapters/function-deps';
import { ROUTES, SUPPORT_FUNCTIONS } from '../../lib/api/routes';
import {
  AWS_SDK_BUNDLED,
  AWS_SDK_EXTERNALS,
  LAMBDA_ALIASES,
  LAMBDA_ENTRY,
  functionBundlingOptions,
  lambdaEsbuildOptions,
} from '../../lib/lambda-bundling';
import {
  LAMBDA_ENTRIES,
  buildHelpersBundle,
  buildLambdaBundle,
  bundleComposition,
  coldInitOnce,
  lambdaEntry,
  lambdaEnv,
  measureWarm,
  moduleOf,
  type WarmResult,
} from '../../lib/bench/lambdas';
import { benchRequests, checkBenchRequests, loadTest, startBenchLocalApp } from '../../lib/bench/local-server';
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
    const lambdaBundlingOptions = functionBundlingOptions('callIncoming');
    expect(es.entryPoints).toEqual([LAMBDA_ENTRY]);
    expect(lambdaBundlingOptions.define).toEqual(es.define);
    expect(es.define).toEqual({ SOFTPHONE_FUNCTION_ID: '"callIncoming"' });
    // a support function (no route) is bundled the same way
    expect(functionBundlingOptions('pageAuthorizer').define).toEqual(lambdaEsbuildOptions('pageAuthorizer', '/tmp/out/index.js').define);
    expect(functionBundlingOptions('pageAuthorizer').define).toEqual({ SOFTPHONE_FUNCTION_ID: '"pageAuthorizer"' });
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
    const entry = lambdaEntry('callIncoming');
    const built = await buildLambdaBundle(entry.id, path.join(work, 'incoming'));
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

  it('measures every function the stack deploys, named by its route or support function, with the environment each needs', () => {
    expect(LAMBDA_ENTRIES.map((e) => e.id)).toEqual([...ROUTES.map((r) => r.id), ...SUPPORT_FUNCTIONS.map((f) => f.id)]);
    expect(new Set(LAMBDA_ENTRIES.map((e) => e.name)).size).toBe(LAMBDA_ENTRIES.length);
    for (const r of ROUTES) expect(lambdaEntry(r.id).name).toBe(r.path.split('/').pop()!.replace(/_/g, '-'));
    expect(lambdaEntry('token').name).toBe('retrieve-capability-token');
    expect(lambdaEntry('pageAuthorizer').name).toBe('page-authorizer');
    expect(lambdaEntry('registryUpgrade').name).toBe('registry-upgrade');
    // warm: every function a caller waits on; the registry upgrade runs once per `cdk deploy`
    expect(LAMBDA_ENTRIES.filter((e) => !e.warm).map((e) => e.id)).toEqual(['registryUpgrade']);
    expect(LAMBDA_ENTRIES.filter((e) => e.kind === 'twiml').map((e) => e.id)).toEqual(ROUTES.filter((r) => r.caller === 'twilio').map((r) => r.id));
    // each function's deps builder finds what it requires in the bench's environment (clients connect on first use)
    const builders: Readonly<Record<string, (env: NodeJS.ProcessEnv) => unknown>> = { ...FUNCTION_DEPS };
    for (const e of LAMBDA_ENTRIES) expect(() => builders[e.id](lambdaEnv())).not.toThrow();
  });

  it('the warm probe gives every other function its own event and checks the answer and the calls it made', async () => {
    const helpers = await buildHelpersBundle(path.join(work, 'helpers-all'));
    // token and callIncoming: the test above
    const entries = LAMBDA_ENTRIES.filter((e) => e.warm && e.id !== 'token' && e.id !== 'callIncoming');
    const bundles = new Map<string, string>();
    const warm = new Map<string, WarmResult>();
    for (const e of entries) {
      const built = await buildLambdaBundle(e.id, path.join(work, `warm-${e.name}`), { externalAwsSdk: true });
      bundles.set(e.id, built.file);
      warm.set(e.id, await measureWarm(built.file, helpers, e.id, 2, 1));
    }
    for (const w of warm.values()) {
      expect(w.p50Us).toBeGreaterThan(0);
      expect(w.secretFetchesAfterWarmup).toBe(0);
    }
    // the page's API takes the identity from the authorizer and never reads the secret; the webhooks and the
    // authorizer read it once per container
    expect(warm.get('voicemails')!.secretFetches).toBe(0);
    expect(warm.get('directory')!.secretFetches).toBe(0);
    for (const id of ['callOutgoing', 'callAction', 'forwardScreen', 'recordingStatus', 'pageAuthorizer'])
      expect(warm.get(id)!.secretFetches).toBe(1);
    // the recording callback's whole path, every invocation: Twilio's copy fetched and deleted, kept in S3, announced
    expect(warm.get('recordingStatus')!.callsPerInvocation).toMatchObject({ s3: 1, sns: 1, twilio: 2 });
    expect(warm.get('pageAuthorizer')!.callsPerInvocation).toMatchObject({ dynamodb: 0, s3: 0, sns: 0, twilio: 0 });
    // a wrong answer fails the probe, saying what was expected
    await expect(measureWarm(bundles.get('callOutgoing')!, helpers, 'callIncoming', 1, 1)).rejects.toThrow(/callIncoming: did not ring the line/);
    await expect(measureWarm(bundles.get('directory')!, helpers, 'voicemails', 1, 1)).rejects.toThrow(/voicemails: did not list the line/);
  }, 120_000);

  it('judges every function by the budgets of its kind; the deploy-time upgrade has no warm budget', async () => {
    const report = await runBench({ quick: true, parts: [], variants: false });
    for (const l of report.json.lambdas) Object.assign(l, { bundleBytes: 1, coldInitMs: 1, referenceColdInitMs: 10, warmP50Us: 1, warmP99Us: 1 });
    const budgets = evaluateBudgets(report);
    for (const e of LAMBDA_ENTRIES) {
      const rows = budgets.filter((b) => b.subject === e.name).map((b) => b.budget);
      expect(rows).toEqual(expect.arrayContaining([expect.stringMatching(/^cold init/), expect.stringMatching(/^bundle/)]));
      const warmRows = rows.filter((r) => /warm p99/.test(r));
      if (e.kind === 'deploy') expect(warmRows).toEqual([]);
      else if (e.kind === 'token') expect(warmRows).toEqual([expect.stringMatching(/^token warm p99 < 2 ms/)]);
      else if (e.kind === 'twiml') expect(warmRows).toEqual(['TwiML warm p99 < 1 ms']);
      else expect(warmRows).toEqual([expect.stringMatching(/warm p99 < 1 ms/)]);
    }
    expect(budgets.filter((b) => LAMBDA_ENTRIES.some((e) => e.name === b.subject)).every((b) => typeof b.pass === 'boolean')).toBe(true);
    expect(formatReport(report)).toContain('no warm figures for registry-upgrade');
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
    for (const l of json.lambdas) {
      const measured = LAMBDA_ENTRIES.find((e) => e.name === l.name)!.warm;
      for (const key of LAMBDA_FIGURES) expect(typeof l[key]).toBe(measured || !key.startsWith('warm') ? 'number' : 'object');
    }
    expect(Object.keys(report.details.warm).sort()).toEqual(
      LAMBDA_ENTRIES.filter((e) => e.warm)
        .map((e) => e.name)
        .sort(),
    );
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

  itFull('the local load test’s requests are answered as the load test expects, and a short load run answers 200', async () => {
    const app = await startBenchLocalApp({ registryPath: path.join(work, 'registry') });
    try {
      const requests = benchRequests(app.apiBaseUrl);
      await checkBenchRequests(app.url, requests);
      const load = await loadTest(app.url, [requests.callIncoming, requests.callOutgoing], { connections: 2, durationSeconds: 1 });
      expect(load.requests).toBeGreaterThan(0);
      expect(Object.keys(load.statusCodes)).toEqual(['200']);
      expect(load.errors + load.timeouts).toBe(0);
    } finally {
      await app.close();
    }
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
