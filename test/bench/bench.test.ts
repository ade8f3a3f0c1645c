/**
 * The benchmark's pieces work: one bundling definition for CDK and esbuild, bundles load as handlers, the warm
 * probe times a bundle, its in-memory calls table answers the call log's adapter as DynamoDB would, the JSON
 * output has the documented shape, the report prints budgets. Shapes only: timings are the benchmark's business,
 * not the tests'.
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
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { mockClient } from 'aws-sdk-client-mock';
import { parseBenchArgs } from '../../bin/bench';
import { DynamoCallLog } from '../../lambda/adapters/dynamo-call-log';
import * as FUNCTION_DEPS from '../../lambda/adapters/function-deps';
import { callKey, callsTableInput, deviceSlotKey, lineSlotKey } from '../../lambda/adapters/registry-schema';
import type { CallEvent } from '../../lambda/ports';
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
    expect(es.define).toEqual({ SOFTPHONE_FUNCTION_ID: '"callIncoming"', SOFTPHONE_DETAILED_TRACING: 'false' });
    // a support function (no route) is bundled the same way
    expect(functionBundlingOptions('pageAuthorizer').define).toEqual(lambdaEsbuildOptions('pageAuthorizer', '/tmp/out/index.js').define);
    expect(functionBundlingOptions('pageAuthorizer').define).toEqual({
      SOFTPHONE_FUNCTION_ID: '"pageAuthorizer"',
      SOFTPHONE_DETAILED_TRACING: 'false',
    });
    // detailedTracing bundles the tracer, the same way for both
    expect(functionBundlingOptions('token', { detailedTracing: true }).define).toEqual(
      lambdaEsbuildOptions('token', '/tmp/out/index.js', { detailedTracing: true }).define,
    );
    expect(functionBundlingOptions('token', { detailedTracing: true }).define?.SOFTPHONE_DETAILED_TRACING).toBe('true');
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
    // the call log's functions are probed too (issue 15), each checked for the real thing (in harness/warm.cjs)
    expect([...warm.keys()]).toEqual(expect.arrayContaining(['callStatus', 'calls']));
    // the page's API takes the identity from the authorizer and never reads the secret; the webhooks and the
    // authorizer read it once per container
    for (const id of ['voicemails', 'directory', 'calls']) expect(warm.get(id)!.secretFetches).toBe(0);
    for (const id of [
      'callOutgoing',
      'callAction',
      'forwardScreen',
      'recordingStatus',
      'callStatus',
      'twilioDebugger',
      'preflight',
      'pageAuthorizer',
    ])
      expect(warm.get(id)!.secretFetches).toBe(1);
    // the recording callback's whole path, every invocation: Twilio's copy fetched and deleted, kept in S3, announced
    expect(warm.get('recordingStatus')!.callsPerInvocation).toMatchObject({ s3: 1, sns: 1, twilio: 2 });
    expect(warm.get('pageAuthorizer')!.callsPerInvocation).toMatchObject({ dynamodb: 0, s3: 0, sns: 0, twilio: 0 });
    // a member leg's status callback: the call's record read and written back on its version, nothing else
    expect(warm.get('callStatus')!.callsPerInvocation).toEqual({ dynamodb: 2, secrets: 0, s3: 0, sns: 0, twilio: 0 });
    // the Debugger webhook and the preflight call are probed too: the Debugger's event answered with an
    // empty <Response/>, counted (one TwilioAlerts of Level error, read from its EMF output) and logged, asking the
    // clouds nothing; the preflight call answered with its TwiML once its identity was found in the registry
    expect([...warm.keys()]).toEqual(expect.arrayContaining(['twilioDebugger', 'preflight']));
    expect(warm.get('twilioDebugger')!.callsPerInvocation).toEqual({ dynamodb: 0, secrets: 0, s3: 0, sns: 0, twilio: 0 });
    expect(warm.get('preflight')!.callsPerInvocation).toMatchObject({ secrets: 0, s3: 0, sns: 0, twilio: 0 });
    expect(warm.get('preflight')!.callsPerInvocation.dynamodb).toBeGreaterThan(0);
    // a wrong answer fails the probe, saying what was expected
    await expect(measureWarm(bundles.get('callOutgoing')!, helpers, 'callIncoming', 1, 1)).rejects.toThrow(/callIncoming: did not ring the line/);
    await expect(measureWarm(bundles.get('directory')!, helpers, 'voicemails', 1, 1)).rejects.toThrow(/voicemails: did not list the line/);
    await expect(measureWarm(bundles.get('voicemails')!, helpers, 'calls', 1, 1)).rejects.toThrow(/calls: did not read the index and the seen mark/);
    // an empty <Response/> is not enough: the status callback answers the Debugger's event so, but counts nothing
    await expect(measureWarm(bundles.get('callStatus')!, helpers, 'twilioDebugger', 1, 1)).rejects.toThrow(
      /twilioDebugger: did not count one TwilioAlerts of Level error/,
    );
    await expect(measureWarm(bundles.get('twilioDebugger')!, helpers, 'preflight', 1, 1)).rejects.toThrow(
      /preflight: did not answer the preflight TwiML/,
    );
  }, 120_000);

  it('judges every function by the budgets of its kind; the deploy-time upgrade has no warm budget', async () => {
    const report = await runBench({ quick: true, parts: [], variants: false });
    for (const l of report.json.lambdas) Object.assign(l, { bundleBytes: 1, coldInitMs: 1, referenceColdInitMs: 10, warmP50Us: 1, warmP99Us: 1 });
    report.details.bundleContents = Object.fromEntries(LAMBDA_ENTRIES.map((e) => [e.name, { unused: [], unknown: [], missing: [] }]));
    // a bundle carrying a client its handler never calls fails its line, naming it
    report.details.bundleContents['page-authorizer'] = {
      unused: [{ module: '@aws-sdk/client-dynamodb', capability: 'dynamodb', bytes: 30_900 }],
      unknown: [],
      missing: [],
    };
    const budgets = evaluateBudgets(report);
    const contents = budgets.find((b) => b.subject === 'page-authorizer' && b.budget.startsWith('bundle'))!;
    expect(contents).toMatchObject({ pass: false, actual: '@aws-sdk/client-dynamodb (dynamodb, 30.9 KB) never used' });
    expect(budgets.find((b) => b.subject === 'directory' && b.budget.startsWith('bundle'))).toMatchObject({ pass: true });
    // cold init is judged at 20% of the reference
    expect(budgets.find((b) => b.subject === 'directory' && b.budget.startsWith('cold init'))).toMatchObject({ limit: '≤ 20%', pass: true });
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
    // The call log's rows (issue 15), beside the others; no error above means every checked invocation did the real
    // thing (a call's record written, a page of the line's calls listed).
    for (const name of ['call-status', 'calls']) {
      const row = json.lambdas.find((l) => l.name === name);
      expect(row).toBeDefined();
      for (const key of LAMBDA_FIGURES) expect(row![key]).toEqual(expect.any(Number));
    }
    expect(report.details.warm['call-status'].callsPerInvocation.dynamodb).toBe(2);
    // The Debugger webhook's and the preflight call's rows, their checks passed (no error above).
    for (const name of ['debugger-events', 'preflight']) {
      const row = json.lambdas.find((l) => l.name === name);
      expect(row).toBeDefined();
      for (const key of LAMBDA_FIGURES) expect(row![key]).toEqual(expect.any(Number));
    }
    expect(report.details.warm['debugger-events'].callsPerInvocation.dynamodb).toBe(0);

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

/** The warm probe's in-memory DynamoDB table (harness/fake-dynamo.cjs), as much of it as these tests use. */
interface FakeTable {
  items: Record<string, unknown>[];
  write(item: Record<string, unknown>): void;
  get(input: object): { Item?: Record<string, unknown> };
  put(input: object): object;
  delete(input: object): object;
  query(input: object): { Items: Record<string, unknown>[]; Count: number; ScannedCount: number; LastEvaluatedKey?: Record<string, unknown> };
}
const { FakeTable } = require('../../lib/bench/harness/fake-dynamo.cjs') as {
  FakeTable: new (description: object, items?: object[]) => FakeTable;
};

describe('the warm probe’s calls table (harness/fake-dynamo.cjs) answers the call log’s adapter as DynamoDB does', () => {
  const LINE = '+815031234567';
  const OTHER_LINE = '+815031239999';
  let table: FakeTable;
  let log: DynamoCallLog;
  const docMock = mockClient(DynamoDBDocumentClient);
  beforeEach(() => {
    table = new FakeTable(callsTableInput('calls'));
    docMock.reset();
    docMock.on(GetCommand).callsFake((input) => table.get(input));
    docMock.on(PutCommand).callsFake((input) => table.put(input));
    docMock.on(DeleteCommand).callsFake((input) => table.delete(input));
    docMock.on(QueryCommand).callsFake((input) => table.query(input));
    const client = new DynamoDBClient({ region: 'ap-northeast-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } });
    log = new DynamoCallLog({ client, table: 'calls', retentionDays: 90 });
  });
  afterAll(() => docMock.restore());

  const sid = (tag: string, n = 0) => `CA${tag}${String(n).padStart(32 - tag.length, '0')}`;
  const ring = (callSid: string, at: number, line = LINE): CallEvent => ({
    kind: 'status',
    callSid,
    legSid: callSid,
    role: 'caller',
    to: line,
    status: 'ringing',
    at,
    line,
    direction: 'incoming',
    remote: '+14155550100',
  });
  const stored = (callSid: string) => table.get({ TableName: 'calls', Key: callKey(callSid) }).Item;

  it('writes a record on the version it read: a stale version fails its condition and changes nothing', async () => {
    const callSid = sid('a');
    await log.apply(ring(callSid, 1_000));
    expect(stored(callSid)).toMatchObject({ version: 1, line: LINE });
    const answered: CallEvent = { ...(ring(callSid, 2_000) as Extract<CallEvent, { kind: 'status' }>), status: 'in-progress' };
    expect((await log.apply(answered)).legs[callSid].status).toBe('in-progress');
    expect(stored(callSid)).toMatchObject({ version: 2 });
    // a repeated event reads and writes nothing
    await log.apply(answered);
    expect(stored(callSid)).toMatchObject({ version: 2 });
    // a writer that read version 1 loses: DynamoDB's ConditionalCheckFailedException, the item as it was
    const before = stored(callSid);
    const stale = {
      TableName: 'calls',
      Item: { ...before, version: 2 },
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': 1 },
    };
    expect(() => table.put(stale)).toThrow(expect.objectContaining({ name: 'ConditionalCheckFailedException' }));
    expect(stored(callSid)).toBe(before);
    // a first write of a call that exists fails too
    expect(() =>
      table.put({ TableName: 'calls', Item: before, ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }),
    ).toThrow(expect.objectContaining({ name: 'ConditionalCheckFailedException' }));
  });

  it('claims places one at a time: again for the same call, never past the limits, an expired place taken over', async () => {
    const claim = (clientName: string, callSid: string, nowSeconds = 1_000) =>
      log.claimSlots({ line: LINE, clientName, callSid, perDevice: 1, perLine: 2, nowSeconds, holdSeconds: 600 });
    const holders = () =>
      table.items
        .filter((i) => i.callSid !== undefined)
        .map((i) => `${i.sk}=${i.callSid}`)
        .sort();
    expect(await claim('DeviceId_0001', sid('b', 1))).toBe('ok');
    expect(await claim('DeviceId_0001', sid('b', 1))).toBe('ok'); // the same call: the same places
    expect(holders()).toEqual([`DEVICE#DeviceId_0001#0=${sid('b', 1)}`, `LINE#0=${sid('b', 1)}`]);
    expect(await claim('DeviceId_0001', sid('b', 2))).toBe('device-busy');
    expect(await claim('DeviceId_0002', sid('b', 3))).toBe('ok');
    // the line is full: the device's place taken for the call is given back (a conditional delete)
    expect(await claim('DeviceId_0003', sid('b', 4))).toBe('line-busy');
    expect(holders()).toEqual([
      `DEVICE#DeviceId_0001#0=${sid('b', 1)}`,
      `DEVICE#DeviceId_0002#0=${sid('b', 3)}`,
      `LINE#0=${sid('b', 1)}`,
      `LINE#1=${sid('b', 3)}`,
    ]);
    // the first call ends: its places are free for the next
    await log.releaseSlots(LINE, sid('b', 1));
    expect(await claim('DeviceId_0001', sid('b', 2))).toBe('ok');
    // a place whose call never reported its end frees itself when it expires
    expect(await claim('DeviceId_0002', sid('b', 5), 1_000 + 600)).toBe('ok');
    expect(holders()).toContain(`DEVICE#DeviceId_0002#0=${sid('b', 5)}`);
    // a claim over a live place of another call fails its condition, as DynamoDB's would
    const live = { ...deviceSlotKey(LINE, 'DeviceId_0001', 0), callSid: sid('b', 6), expiresAt: 2_000 };
    const slotCondition = {
      ConditionExpression: 'attribute_not_exists(#pk) OR #exp <= :now OR callSid = :sid',
      ExpressionAttributeNames: { '#pk': 'pk', '#exp': 'expiresAt' },
      ExpressionAttributeValues: { ':now': 1_100, ':sid': sid('b', 6) },
    };
    expect(() => table.put({ TableName: 'calls', Item: live, ...slotCondition })).toThrow(
      expect.objectContaining({ name: 'ConditionalCheckFailedException' }),
    );
    expect(() =>
      table.delete({
        TableName: 'calls',
        Key: lineSlotKey(LINE, 0),
        ConditionExpression: 'callSid = :sid',
        ExpressionAttributeValues: { ':sid': sid('b', 6) },
      }),
    ).toThrow(expect.objectContaining({ name: 'ConditionalCheckFailedException' }));
  });

  it('lists a line’s calls from the index, newest first, page by page; other lines’ calls and other items stay out', async () => {
    for (let i = 0; i < 25; i++) await log.apply(ring(sid('c', i), 1_000_000 + i * 1000));
    for (let i = 0; i < 3; i++) await log.apply(ring(sid('d', i), 1_000_000 + i * 1000 + 500, OTHER_LINE));
    await log.claimSlots({ line: LINE, clientName: 'DeviceId_0001', callSid: sid('e'), perDevice: 1, perLine: 1, nowSeconds: 1, holdSeconds: 60 });
    await log.markSeen('DeviceId_0001', '2026-01-01T00:00:00.000Z');
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await log.list(LINE, { limit: 10, ...(cursor ? { cursor } : {}) });
      pages.push(page.calls.map((c) => c.callSid));
      cursor = page.cursor;
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => sid('c', 24 - i)));
    // DynamoDB's Limit: a page that ends at the last item still has a LastEvaluatedKey; the next one is empty
    const twenty = await log.list(LINE, { limit: 20, cursor: (await log.list(LINE, { limit: 5 })).cursor });
    expect(twenty.calls).toHaveLength(20);
    expect(twenty.cursor).toEqual(expect.any(String));
    expect(await log.list(LINE, { limit: 20, cursor: twenty.cursor })).toEqual({ calls: [] });
    // the seen mark only moves forward (its condition fails quietly otherwise)
    await log.markSeen('DeviceId_0001', '2025-01-01T00:00:00.000Z');
    expect(await log.seenUntil('DeviceId_0001')).toBe('2026-01-01T00:00:00.000Z');
  });

  it('refuses what DynamoDB refuses: a consistent read of a global index, an unused or undefined placeholder, a key off the schema', () => {
    const query = { TableName: 'calls', IndexName: 'line-startedAt', KeyConditionExpression: '#l = :l', ExpressionAttributeNames: { '#l': 'line' } };
    expect(() => table.query({ ...query, ExpressionAttributeValues: { ':l': LINE }, ConsistentRead: true })).toThrow(
      /Consistent reads are not supported/,
    );
    expect(() => table.query({ ...query, ExpressionAttributeValues: { ':l': LINE, ':x': 1 } })).toThrow(/unused in expressions/);
    expect(() => table.query({ ...query, ExpressionAttributeValues: {} })).toThrow(/not defined/);
    expect(() => table.get({ TableName: 'calls', Key: { pk: 'CALL#x' } })).toThrow(/does not match the schema/);
    expect(table.query({ ...query, ExpressionAttributeValues: { ':l': LINE } })).toEqual({ Items: [], Count: 0, ScannedCount: 0 });
  });
});

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
