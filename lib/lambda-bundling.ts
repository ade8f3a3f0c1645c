/**
 * The ONE definition of how the Lambda entry points are bundled.
 *
 * Every function bundles the one entry `lambda/entry.ts`, with the constant `SOFTPHONE_FUNCTION_ID` defined to its
 * function id: the entry's lookup in the handler table (lambda/handlers/index.ts) then resolves at build time, and
 * esbuild drops every other handler (lambda/package.json: our modules have no side effects).
 *
 * The CDK functions construct passes `functionBundlingOptions(id)` to `NodejsFunction`; `npm run bench` builds
 * with `lambdaEsbuildOptions(route)`. Both are derived from the same constants below, so what the benchmark
 * measures is what the stack deploys (the CDK runs `esbuild --bundle <entry> --target=… --platform=node
 * --format=cjs --minify --sourcemap --external:… --define:…` from exactly these values).
 *
 * Decisions (figures from `npm run bench`, see the README's performance section):
 * - minified, CommonJS, `platform: node`, target `node24` (the `NODEJS_24_X` runtime);
 * - `mainFields: ['module', 'main']`: packages without an `exports` map (the AWS SDK v3) resolve to their
 *   ES module builds, which esbuild can tree-shake;
 * - the AWS SDK v3 is BUNDLED (`AWS_SDK_BUNDLED`), not left external to the copy the Node.js Lambda runtime
 *   provides: measured both ways, loading the tree-shaken, minified client from the one bundle file is
 *   faster than resolving and loading the runtime's unbundled `@aws-sdk/*` and `@smithy/*` packages, and it
 *   pins the SDK version we test with;
 * - an external source map without the sources' text (small asset; stack traces are mapped only when the
 *   function sets `NODE_OPTIONS=--enable-source-maps`).
 */
import type { BuildOptions } from 'esbuild';
import { OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { FunctionId } from './api/routes';

/** The one Lambda entry, relative to the repository root. */
export const LAMBDA_ENTRY = 'lambda/entry.ts';

/**
 * Whether the functions carry Powertools Tracer (the `detailedTracing` context key; default off). Lambda's own
 * X-Ray segments (init, invocation) and the API stage's are there either way; the tracer adds a subsegment per
 * AWS and Twilio call, and with the X-Ray SDK it costs 134 KB and 19–28 ms more cold init per function
 * (`npm run bench`, docs/performance.md), so it is built in only when asked for.
 */
export const DETAILED_TRACING_DEFAULT = false;

/** What a function's bundle is built with besides its id. */
export interface FunctionBuild {
  /** Powertools Tracer in the bundle (lambda/adapters/tracing.ts); without it the tracer code is left out. */
  detailedTracing?: boolean;
}

/**
 * The build-time constants of a function's bundle: which handler `lambda/entry.ts` exports, and whether the
 * tracer is bundled (`SOFTPHONE_DETAILED_TRACING`, read by lambda/adapters/tracing.ts).
 */
export function functionDefines(id: FunctionId, build: FunctionBuild = {}): Record<string, string> {
  return {
    SOFTPHONE_FUNCTION_ID: JSON.stringify(id),
    SOFTPHONE_DETAILED_TRACING: JSON.stringify(build.detailedTracing ?? DETAILED_TRACING_DEFAULT),
  };
}

/** esbuild target: the Node.js major version of the Lambda runtime (`Runtime.NODEJS_24_X`). */
export const LAMBDA_NODE_TARGET = 'node24';

/** Whether the AWS SDK v3 goes into the bundle (true) or is taken from the Lambda runtime (false). */
export const AWS_SDK_BUNDLED = true;

/** What "external AWS SDK" means: every package of the v3 SDK and its Smithy runtime. */
export const AWS_SDK_EXTERNALS: readonly string[] = ['@aws-sdk/*', '@smithy/*'];

/** Modules left out of the bundle. */
export const LAMBDA_EXTERNAL_MODULES: readonly string[] = AWS_SDK_BUNDLED ? [] : AWS_SDK_EXTERNALS;

/** Resolution order of package.json entry fields (for packages without an `exports` map). */
export const LAMBDA_MAIN_FIELDS: readonly string[] = ['module', 'main'];

/**
 * Import aliases (package → path relative to the repo root), to replace a dependency the Lambda runtime
 * makes unnecessary. Passed to the CDK as `--alias:<package>=<path>` and to esbuild as `alias`; both resolve
 * the path from the repo root.
 * - the SDK's default credential chain → environment credentials only (the Lambda runtime always sets them):
 *   see `lambda/adapters/env-credential-provider.ts` for what it saves.
 */
export const LAMBDA_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': './lambda/adapters/env-credential-provider.ts',
};

/** Shared knobs, the single source of both option shapes below. */
export const LAMBDA_BUNDLING = {
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  target: LAMBDA_NODE_TARGET,
  platform: 'node',
  format: 'cjs',
  externalModules: LAMBDA_EXTERNAL_MODULES,
  mainFields: LAMBDA_MAIN_FIELDS,
  alias: LAMBDA_ALIASES,
} as const;

/** For `new NodejsFunction(scope, id, { entry: LAMBDA_ENTRY, runtime: Runtime.NODEJS_24_X, bundling: functionBundlingOptions(id) })`. */
export function functionBundlingOptions(id: FunctionId, build: FunctionBuild = {}): BundlingOptions {
  return { ...lambdaBundlingOptions, define: functionDefines(id, build) };
}

/** The settings every route shares. */
const lambdaBundlingOptions: BundlingOptions = {
  minify: LAMBDA_BUNDLING.minify,
  sourceMap: LAMBDA_BUNDLING.sourceMap,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: LAMBDA_BUNDLING.sourcesContent,
  target: LAMBDA_BUNDLING.target,
  format: OutputFormat.CJS,
  // An explicit list (even an empty one) overrides the CDK default of `@aws-sdk/*` external.
  externalModules: [...LAMBDA_BUNDLING.externalModules],
  bundleAwsSDK: AWS_SDK_BUNDLED,
  mainFields: [...LAMBDA_BUNDLING.mainFields],
  ...(Object.keys(LAMBDA_BUNDLING.alias).length > 0
    ? { esbuildArgs: { '--alias': Object.entries(LAMBDA_BUNDLING.alias).map(([from, to]) => `${from}=${to}`) } }
    : {}),
};

/** Overrides for experiments (the benchmark compares variants); the deployed settings take none. */
export interface LambdaEsbuildOverrides extends FunctionBuild {
  minify?: boolean;
  /** Leave the AWS SDK to the runtime (true) or bundle it (false); default: `!AWS_SDK_BUNDLED`. */
  externalAwsSdk?: boolean;
  mainFields?: readonly string[];
  metafile?: boolean;
}

/**
 * The same settings as plain esbuild options: `esbuild.build(lambdaEsbuildOptions(route, outfile))` (run in
 * the repository root) produces the file the CDK puts in the route's function asset as `index.js` (plus
 * `index.js.map`).
 */
export function lambdaEsbuildOptions(route: FunctionId | null, outfile: string, overrides: LambdaEsbuildOverrides = {}): BuildOptions {
  const external = overrides.externalAwsSdk === undefined ? LAMBDA_BUNDLING.externalModules : overrides.externalAwsSdk ? AWS_SDK_EXTERNALS : [];
  return {
    // null: the caller gives its own entry (e.g. `stdin`) with the same settings
    ...(route === null ? {} : { entryPoints: [LAMBDA_ENTRY], define: functionDefines(route, { detailedTracing: overrides.detailedTracing }) }),
    outfile,
    bundle: true,
    platform: LAMBDA_BUNDLING.platform,
    target: LAMBDA_BUNDLING.target,
    format: LAMBDA_BUNDLING.format,
    minify: overrides.minify ?? LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    sourcesContent: LAMBDA_BUNDLING.sourcesContent,
    external: [...external],
    mainFields: [...(overrides.mainFields ?? LAMBDA_BUNDLING.mainFields)],
    alias: { ...LAMBDA_BUNDLING.alias },
    metafile: overrides.metafile ?? false,
    logLevel: 'warning',
  };
}
