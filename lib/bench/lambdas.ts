/**
 * Lambda measurements: bundle size, cold init (fresh `node` processes, beside the walkthrough-style
 * reference in the same run) and warm handler latency (in-process invocations, AWS clients mocked).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { type FunctionId, ROUTES, type RouteId, SUPPORT_FUNCTIONS } from '../api/routes';
import { AWS_SDK_BUNDLED, lambdaEsbuildOptions, type LambdaEsbuildOverrides } from '../lambda-bundling';
import { median, quantile } from './stats';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const HARNESS_DIR = path.join(__dirname, 'harness');

/**
 * What a function is, for the warm probe (which event it gets) and the budgets (which apply):
 * - `token`: the browser's sign-in (the token budget, on top of the hash);
 * - `twiml`: a Twilio webhook answering TwiML (the TwiML budget), the recording and call status callbacks included;
 * - `page`: the page's own API behind the authorizer (JSON);
 * - `authorizer`: the page API's Lambda authorizer (an IAM policy);
 * - `deploy`: run by `cdk deploy` only (the registry upgrade): bundle and cold init, no warm figures.
 */
export type LambdaKind = 'token' | 'twiml' | 'page' | 'authorizer' | 'deploy';

export interface LambdaEntry {
  /** a route's last path segment (`retrieve-capability-token`), a support function's id in kebab-case (`page-authorizer`) */
  name: string;
  /** the function id the stack bundles it by (lib/lambda-bundling.ts `functionDefines`) */
  id: FunctionId;
  kind: LambdaKind;
  /** measured warm (every function but the deploy-time ones) */
  warm: boolean;
}

const kebab = (id: string): string => id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function routeKind(id: RouteId, caller: 'browser' | 'twilio'): LambdaKind {
  if (id === 'token') return 'token';
  return caller === 'twilio' ? 'twiml' : 'page';
}

/**
 * Every function the stack deploys (lib/constructs/softphone-functions.ts): one per route (lib/api/routes.ts), in
 * route order, then the support functions.
 */
export const LAMBDA_ENTRIES: readonly LambdaEntry[] = [
  ...ROUTES.map((r) => ({ name: r.path.split('/').pop()!.replace(/_/g, '-'), id: r.id as FunctionId, kind: routeKind(r.id, r.caller), warm: true })),
  ...SUPPORT_FUNCTIONS.map((f) => {
    const kind: LambdaKind = f.id === 'pageAuthorizer' ? 'authorizer' : 'deploy';
    return { name: kebab(f.id), id: f.id as FunctionId, kind, warm: kind !== 'deploy' };
  }),
];

/** The entry of a function id (throws on an unknown one). */
export function lambdaEntry(id: FunctionId): LambdaEntry {
  const entry = LAMBDA_ENTRIES.find((e) => e.id === id);
  if (!entry) throw new Error(`no bench entry for ${id}`);
  return entry;
}

/** The fixed test data every measurement uses (fake credentials: nothing leaves the machine). */
export const FIXTURE = {
  phoneNumber: '+815031234567',
  humanPhoneNumber: '+81-50-3123-4567',
  clientName: 'DeviceId_0001',
  /** the line's second member (the line rings both; the directory lists both) */
  teammateClientName: 'DeviceId_0002',
  deviceSecret: 'bench-device-secret-0123456789abcdef',
  destination: '090-5987-6543',
  /** who calls the line */
  caller: '+14155550100',
  /** the forward number's leg (the forward screen's event); the line itself forwards nowhere, so a call nobody answers goes to voicemail */
  forwardTo: '+819012345678',
  /** the recording the recording callback keeps (not yet a voicemail of the line) */
  recordingSid: 'RE0123456789abcdef0123456789abcdef',
  domainName: 'abcdef1234.execute-api.ap-northeast-1.amazonaws.com',
  credentials: {
    accountSid: 'AC00000000000000000000000000000000',
    apiKeySid: 'SK00000000000000000000000000000000',
    apiKeySecret: 'bench-api-key-secret-0000000000000',
    authToken: '0123456789abcdef0123456789abcdef',
    twimlAppSid: 'AP00000000000000000000000000000000',
  },
} as const;

/**
 * The environment the stack gives the functions, plus what makes a local `node` behave like the Lambda
 * runtime: NODE_PATH pointing at node_modules (the runtime's own AWS SDK lives on its NODE_PATH) and no
 * Node-version warning from the SDK (Lambda runs Node 24; this machine may run an older Node).
 */
export function lambdaEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    NODE_PATH: path.join(REPO_ROOT, 'node_modules'),
    AWS_REGION: 'ap-northeast-1',
    AWS_DEFAULT_REGION: 'ap-northeast-1',
    AWS_ACCESS_KEY_ID: 'AKIDBENCHMARK000000',
    AWS_SECRET_ACCESS_KEY: 'bench-secret-access-key',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // Lambda's runtime sets it; Powertools reads it (the tracer runs only in Lambda, and only where it is bundled)
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
    // What lib/constructs/softphone-functions.ts gives the functions; each function reads only its own share
    // (lambda/adapters/function-deps.ts), so every function gets all of it here.
    REGISTRY_TABLE: 'bench-registry',
    ATTEMPTS_TABLE: 'bench-attempts',
    CALLS_TABLE: 'bench-calls',
    LEGACY_DEVICES_TABLE: 'bench-legacy-devices',
    TWILIO_SECRET_ID: 'bench/twilio',
    RECORDINGS_BUCKET: 'bench-recordings',
    VOICEMAIL_TOPIC_ARN: 'arn:aws:sns:ap-northeast-1:123456789012:bench-voicemail',
    SOFTPHONE_URL: 'https://d111111abcdef8.cloudfront.net',
    TOKEN_TTL_SECONDS: '3600',
    CALL_TIME_LIMIT_SECONDS: '14400',
    VOICEMAIL_RETENTION_DAYS: '30',
    CALL_LOG_RETENTION_DAYS: '90',
    MAX_CALLS_PER_DEVICE: '2',
    MAX_CALLS_PER_LINE: '10',
    WEBHOOK_SIGNATURE_VALIDATION: 'on',
    ALLOWED_DESTINATION_COUNTRIES: 'JP',
    POWERTOOLS_SERVICE_NAME: 'twilio-softphone-bench',
    POWERTOOLS_LOG_LEVEL: 'INFO', // as the stack sets it (lib/constructs/softphone-functions.ts)
    POWERTOOLS_TRACE_ENABLED: 'false', // as the stack sets it without detailedTracing
    ...extra,
  };
}

export interface BuiltBundle {
  file: string;
  bytes: number;
  metafile: Metafile;
}

/**
 * Bundles one function with the stack's settings into `outdir`. `overrides` and `plugins` are for
 * experiments (variants and what-ifs); without them the output is what the CDK deploys.
 */
export async function buildLambdaBundle(
  id: FunctionId,
  outdir: string,
  overrides: LambdaEsbuildOverrides = {},
  plugins: Plugin[] = [],
): Promise<BuiltBundle> {
  await mkdir(outdir, { recursive: true });
  const file = path.join(outdir, 'index.js');
  const result = await build({
    ...lambdaEsbuildOptions(id, file, { ...overrides, metafile: true }),
    absWorkingDir: REPO_ROOT,
    plugins,
  });
  const { size } = await stat(file);
  return { file, bytes: size, metafile: result.metafile! };
}

/**
 * Bundles the helpers the warm probe makes its fixture with (the device-secret hash of the registry's members, an
 * Access Token for the authorizer's event, the calls table's schema and call records) and checks its answers by
 * (the TwiML the Debugger webhook and the preflight call answer, the metrics' names) with the stack's settings.
 */
export async function buildHelpersBundle(outdir: string): Promise<string> {
  await mkdir(outdir, { recursive: true });
  const file = path.join(outdir, 'helpers.js');
  await build({
    ...lambdaEsbuildOptions(null, file, { externalAwsSdk: true }),
    stdin: {
      contents: [
        "export { hashDeviceSecret, verifyDeviceSecret } from './lambda/core/device-secret';",
        "export { createVoiceAccessToken } from './lambda/core/access-token';",
        // the answers the Debugger webhook and the preflight call must give, as the handlers build them
        "export { emptyTwiml, preflightTwiml } from './lambda/core/twiml';",
        "export { METRIC, METRICS_NAMESPACE } from './lambda/core/metrics';",
        // the call log's fixture: records merged as the handlers merge them, laid out as the adapter writes them
        "export { mergeCallEvent } from './lambda/core/call-log';",
        'export { CALLS_INDEX_PK, CALLS_INDEX_SK, PK, SK, TTL_ATTRIBUTE, callKey, callsTableInput, deviceSlotKey, lineSlotKey, seenKey }',
        "  from './lambda/adapters/registry-schema';",
      ].join('\n'),
      resolveDir: REPO_ROOT,
      loader: 'ts',
      sourcefile: 'bench-helpers.ts',
    },
    absWorkingDir: REPO_ROOT,
  });
  return file;
}

/** One package's (or our own directory's) share of a bundle, from the esbuild metafile. */
export interface BundleShare {
  module: string;
  bytes: number;
}

/** Groups a bundle's bytes (JavaScript outputs by default) by npm package (or by top-level directory for our own code), largest first. */
export function bundleComposition(metafile: Metafile, outputFilter: (outputPath: string) => boolean = (p) => p.endsWith('.js')): BundleShare[] {
  const totals = new Map<string, number>();
  for (const [outputPath, output] of Object.entries(metafile.outputs)) {
    if (!outputFilter(outputPath)) continue;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const key = moduleOf(input);
      totals.set(key, (totals.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...totals.entries()].map(([module, bytes]) => ({ module, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** The AWS SDK v3's share of a bundle: `@aws-sdk/*`, `@smithy/*` and their `@aws/*`, `@aws-crypto/*` helpers. */
export function awsSdkBytes(shares: readonly BundleShare[]): number {
  return shares.filter((s) => /^@(aws-sdk|smithy|aws|aws-crypto)\//.test(s.module)).reduce((sum, s) => sum + s.bytes, 0);
}

/** `node_modules/@scope/pkg/dist/x.js` → `@scope/pkg`; `node_modules/twilio/lib/jwt/x.js` → `twilio/lib/jwt`; `lambda/core/x.ts` → `lambda/core`. */
export function moduleOf(input: string): string {
  const parts = input.split('/');
  const nm = parts.lastIndexOf('node_modules');
  if (nm >= 0) {
    const name = parts[nm + 1]?.startsWith('@') ? parts.slice(nm + 1, nm + 3).join('/') : parts[nm + 1];
    // The Twilio library is one big package; its sub-directories say more.
    if (name === 'twilio') return parts.slice(nm + 1, nm + 4).join('/');
    return name;
  }
  return parts.length > 1 ? parts.slice(0, -1).join('/') : input;
}

/** Spawns the cold-init probe once for `moduleFile`; resolves to the module's load time in ms. */
export function coldInitOnce(moduleFile: string, env: NodeJS.ProcessEnv = lambdaEnv()): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(HARNESS_DIR, 'cold-init.cjs'), moduleFile], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve((JSON.parse(line) as { ms: number }).ms);
      } catch (e) {
        reject(new Error(`cold init of ${moduleFile} failed (${(e as Error).message}): ${err.trim() || out.trim()}`));
      }
    });
  });
}

export interface ColdTarget {
  id: string;
  file: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Cold init of every target, `runs` times each, interleaved (ref, a, b, …, ref, a, b, …) so that load on
 * a shared machine hits all targets alike. Returns the median per target id.
 */
export async function measureColdInit(targets: readonly ColdTarget[], runs: number, progress?: (line: string) => void): Promise<Map<string, number>> {
  const samples = new Map<string, number[]>(targets.map((t) => [t.id, []]));
  // One unmeasured round first: fills the OS file cache as a Lambda host's would be.
  for (const t of targets) await coldInitOnce(t.file, t.env);
  for (let run = 0; run < runs; run++) {
    progress?.(`cold init run ${run + 1}/${runs}`);
    for (const t of targets) samples.get(t.id)!.push(await coldInitOnce(t.file, t.env));
  }
  return new Map([...samples.entries()].map(([id, s]) => [id, median(s)]));
}

export interface WarmResult {
  /** The container's first invocation (lazy deps, secret fetch from the mock, first JIT), whole. */
  firstUs: number;
  /**
   * The handler's own time: an invocation's elapsed time (its garbage collection included) less the AWS SDK calls'
   * (below), the Twilio REST calls' (the recording callback's `fetch`, answered by a stub) and the device-secret hash's: the row's warm figures, judged by the budgets. Elapsed time counts the
   * moments the OS gives the core to another process too, so the run wants a quiet machine (its load is reported).
   */
  p50Us: number;
  p99Us: number;
  /** p99 of the invocations no GC pause fell in: what the GC adds to the tail is the difference. */
  noGcP99Us: number;
  /**
   * The AWS SDK clients' own work per invocation (marshalling, serialization, signing, retries, deserialization:
   * everything but the network, which the stand-in answers at the transport, its own time left out): Lambda spends it
   * too, but it is the SDK's code, reported beside the handler's and not judged by its budget.
   */
  sdkP50Us: number;
  sdkP99Us: number;
  /** Invocations a GC pause fell in, and the longest such pause (main thread). */
  gcInvocations: number;
  gcMaxUs: number;
  /** Timed invocations. */
  invocations: number;
  /** Whole invocation including any scrypt. */
  totalP50Us: number;
  totalP99Us: number;
  /** The device-secret hash's own cost (token handler), if any. */
  scryptP50Us?: number;
  scryptP99Us?: number;
  secretFetches: number;
  secretFetchesAfterWarmup: number;
  /**
   * What one timed invocation asked of the (mocked) clouds, on average: DynamoDB, S3 and SNS requests, Secrets
   * Manager reads, Twilio REST calls. Their mocks answer at once, so the warm figures are the handler's own work
   * around these calls.
   */
  callsPerInvocation: WarmCalls;
}

export interface WarmCalls {
  dynamodb: number;
  secrets: number;
  s3: number;
  sns: number;
  twilio: number;
}

interface WarmMessage {
  ok: boolean;
  error?: string;
  firstUs: number;
  totalUs: number[];
  netUs: number[];
  sdkUs: number[];
  gcUs: number[];
  scryptUs: number[];
  secretFetches: number;
  secretFetchesAfterWarmup: number;
  callsPerInvocation: WarmCalls;
}

/**
 * Runs the warm probe (harness/warm.cjs) on a function's bundle built with the AWS SDK external (so the mocks
 * reach it): `kind` picks the event it is invoked with and the check of its answer. With
 * `memoizeScrypt` the device-secret hash is served from a memo after its first computation (the handler's
 * own cost without the hash's idle wait); otherwise every hash runs for real and its time is subtracted.
 */
export function measureWarm(
  bundleFile: string,
  helpersFile: string,
  kind: FunctionId,
  iterations: number,
  warmup: number,
  opts: { memoizeScrypt?: boolean } = {},
): Promise<WarmResult> {
  return new Promise((resolve, reject) => {
    const args = JSON.stringify({
      bundle: bundleFile,
      helpers: helpersFile,
      kind,
      iterations,
      warmup,
      memoizeScrypt: !!opts.memoizeScrypt,
      fixture: FIXTURE,
      resourcePaths: Object.fromEntries(ROUTES.map((r) => [r.id, r.path])),
    });
    // The probe's stdout (the function's INFO lines, its metrics) goes to /dev/null and its stderr (its warnings and
    // errors) to a file, as Lambda's runtime takes them: a pipe to this process would make the function wait on
    // this process reading it (a Debugger event logs an error line on every invocation).
    const dir = mkdtempSync(path.join(tmpdir(), 'warm-probe-'));
    const stderrFile = path.join(dir, 'stderr');
    const stderrFd = openSync(stderrFile, 'w');
    const child = spawn(process.execPath, [path.join(HARNESS_DIR, 'warm.cjs'), args], {
      env: lambdaEnv(),
      stdio: ['ignore', 'ignore', stderrFd, 'ipc'],
    });
    closeSync(stderrFd);
    let message: WarmMessage | undefined;
    child.on('message', (m) => (message = m as WarmMessage));
    child.on('error', reject);
    child.on('close', (code) => {
      const err = readFileSync(stderrFile, 'utf8').slice(-4000);
      rmSync(dir, { recursive: true, force: true });
      if (!message) return reject(new Error(`warm probe (${kind}) exited ${code} without a result: ${err.trim()}`));
      if (!message.ok) return reject(new Error(`warm probe (${kind}) failed: ${message.error}`));
      const hasScrypt = message.scryptUs.length > 0;
      const { gcUs } = message;
      const withoutGc = message.netUs.filter((_, i) => gcUs[i] === 0);
      resolve({
        firstUs: message.firstUs,
        p50Us: quantile(message.netUs, 0.5),
        p99Us: quantile(message.netUs, 0.99),
        noGcP99Us: withoutGc.length > 0 ? quantile(withoutGc, 0.99) : Number.NaN,
        sdkP50Us: quantile(message.sdkUs, 0.5),
        sdkP99Us: quantile(message.sdkUs, 0.99),
        gcInvocations: message.gcUs.filter((us) => us > 0).length,
        gcMaxUs: Math.max(0, ...message.gcUs),
        invocations: message.netUs.length,
        totalP50Us: quantile(message.totalUs, 0.5),
        totalP99Us: quantile(message.totalUs, 0.99),
        scryptP50Us: hasScrypt ? quantile(message.scryptUs, 0.5) : undefined,
        scryptP99Us: hasScrypt ? quantile(message.scryptUs, 0.99) : undefined,
        secretFetches: message.secretFetches,
        secretFetchesAfterWarmup: message.secretFetchesAfterWarmup,
        callsPerInvocation: message.callsPerInvocation,
      });
    });
  });
}

/** Human label of the deployed AWS SDK choice. */
export function sdkChoiceLabel(bundled = AWS_SDK_BUNDLED): string {
  return bundled ? 'AWS SDK bundled' : 'AWS SDK external (Lambda runtime)';
}
