/**
 * `npm run bench [-- --json] [--quick] [--only lambdas,softphone,local] [--no-variants]`
 *
 * Measures every Lambda function the stack deploys (size, cold init beside the walkthrough-style reference, warm
 * latency; the deploy-time registry upgrade has no warm figures), the
 * softphone (bytes, time to ready-to-sign-in in headless Chromium) and the local app under load (127.0.0.1).
 * Progress goes to stderr; stdout gets the human report, or with `--json` exactly one JSON object.
 * Exit code 1 when a measurement could not be taken (budgets are reported, not enforced).
 *
 * Method, in short (details beside each measurement in lib/bench/):
 * - bundles: `lib/lambda-bundling.ts`, the settings the CDK deploys (byte-identical output);
 * - cold init: `require()` of the bundle in a fresh `node` (Lambda's environment, AWS_EXECUTION_ENV set), median
 *   of 11, interleaved with the reference (the
 *   `twilio` package root + the AWS SDK clients, unbundled from node_modules) so machine noise hits both;
 * - warm: thousands of sequential invocations in one process, each function with its own event (a signed
 *   webhook, the page's request, the authorizer's Access Token) and its answer checked; DynamoDB (a fake registry
 *   of one line, and an in-memory calls table holding its call log, with DynamoDB's conditional writes and the
 *   line index: a status callback rewrites a call's record, put back before each invocation; the outgoing call
 *   keeps the places it claimed) answered at the SDK's transport, so the clients' own work runs (reported apart as
 *   "SDK calls"; the stand-in's time subtracted); Secrets Manager, S3 and SNS stubbed by aws-sdk-client-mock,
 *   Twilio's recordings API by a `fetch` stub (its calls subtracted like the SDK's), nothing leaving the machine; the secret cached after the first
 *   call; a row is the handler's own elapsed time, GC pauses included and attributed; the token row with the
 *   device-secret hash memoized, the hash itself (every call real) reported on its own line;
 * - bundle contents: each bundle's packages (esbuild metafile) against its function's grants and handler's uses
 *   (lib/bench/bundle-contents.ts);
 * - softphone: a production `buildClient` build, gzip -9 sizes, navigation → ready to sign in (config read,
 *   number field focused) in /usr/bin/chromium, median of 7 fresh contexts;
 * - local app: autocannon, 50 connections against 127.0.0.1, webhooks signed; each endpoint runs 5 s under load
 *   first, then only answers completed in the next 5 s count (steady state); the token endpoint's warm-up and window
 *   stretch to fit its answers (50 ÷ the device-secret hash's rate, measured just before) and its throughput is
 *   judged against that rate; the JSON's localServer is the mixed run (each connection cycles token → incoming →
 *   outgoing).
 * `--quick` runs every piece once or a few times: it checks that they work, its figures mean nothing.
 */
import { formatReport } from '../lib/bench/report';
import { ALL_PARTS, runBench, type BenchPart } from '../lib/bench/run';

interface CliOptions {
  json: boolean;
  quick: boolean;
  parts: BenchPart[];
  variants?: boolean;
}

const USAGE = 'usage: npm run bench -- [--json] [--quick] [--only lambdas,softphone,local] [--no-variants]';

export function parseBenchArgs(argv: readonly string[]): CliOptions {
  const opts: CliOptions = { json: false, quick: false, parts: [...ALL_PARTS] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') opts.json = true;
    else if (arg === '--quick') opts.quick = true;
    else if (arg === '--no-variants') opts.variants = false;
    else if (arg === '--variants') opts.variants = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      const parts = (value ?? '').split(',').filter(Boolean);
      const unknown = parts.filter((p) => !(ALL_PARTS as readonly string[]).includes(p));
      if (parts.length === 0 || unknown.length > 0) throw new Error(`--only takes ${ALL_PARTS.join(',')}; got ${value ?? 'nothing'}\n${USAGE}`);
      opts.parts = parts as BenchPart[];
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument: ${arg}\n${USAGE}`);
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parseBenchArgs(process.argv.slice(2));
  const started = Date.now();
  const report = await runBench({
    quick: opts.quick,
    parts: opts.parts,
    variants: opts.variants,
    progress: (line) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`),
  });
  process.stdout.write(opts.json ? `${JSON.stringify(report.json)}\n` : `${formatReport(report)}\n`);
  if (opts.json) process.stderr.write(`${formatReport(report)}\n`);
  process.exitCode = report.details.errors.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
