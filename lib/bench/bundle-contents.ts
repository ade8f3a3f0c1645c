/**
 * "No bundle carries a module its handler never calls", checked on esbuild's metafile: every package (or directory of
 * ours) with bytes in a function's bundle is sorted into what it is for (a CAPABILITY), and each function may carry
 * only the capabilities its handler uses:
 * - the AWS clients from the function's grants (lib/constructs/softphone-functions.ts ACCESS, which
 *   test/infra/least-privilege.test.ts holds to the calls each handler really makes): DynamoDB where it has a table
 *   grant, Secrets Manager where it reads the Twilio secret, S3 where it touches recordings, SNS where it publishes;
 * - what its handler does besides (HANDLER_USES below, one line per function, beside what it calls);
 * - Powertools Tracer and the X-Ray SDK only when built with detailedTracing.
 * A package no rule knows is reported too, so a new dependency is sorted (and justified) before it ships.
 * `npm run bench` reports the result per function; test/lambda/bundle.test.ts holds every bundle to it.
 */
import type { Metafile } from 'esbuild';
import type { FunctionId } from '../api/routes';
import { ACCESS } from '../constructs/softphone-functions';
import { moduleOf } from './lambdas';

export type Capability =
  /** our own code, the Lambda runtime adapter */
  | 'own'
  /** Powertools Logger and Metrics (every function logs and counts) */
  | 'logsAndMetrics'
  /** the AWS SDK's shared runtime (Smithy, signing, HTTP, environment credentials): with any AWS client */
  | 'awsSdk'
  | 'dynamodb'
  | 'secretsManager'
  | 's3'
  | 'sns'
  /** Powertools Tracer, the X-Ray SDK and its helpers */
  | 'tracing'
  /** the TwiML writer (xmlbuilder, lambda/core/twiml-builder.ts): the answers to Twilio's webhooks */
  | 'twiml'
  /** Twilio's request validation (X-Twilio-Signature) */
  | 'twilioSignature'
  /** the Access Token's JWT signing */
  | 'jwtSigning'
  /** phone number parsing (libphonenumber-js with its metadata) */
  | 'phoneNumbers';

/** Package (moduleOf's name) → capability; the first match wins. */
const PACKAGE_CAPABILITIES: readonly [RegExp, Capability][] = [
  [/^lambda(\/|$)/, 'own'],
  [/^@aws-lambda-powertools\/(logger|metrics|commons)$/, 'logsAndMetrics'],
  // Powertools Parameters' Secrets Manager provider (secrets-manager-credentials.ts)
  [/^@aws-lambda-powertools\/parameters$/, 'secretsManager'],
  [
    /^(@aws-lambda-powertools\/tracer|aws-xray-sdk-core|semver|cls-hooked|emitter-listener|shimmer|atomic-batcher|async-hook-jl|stack-chain)$/,
    'tracing',
  ],
  // the X-Ray SDK's AWS error classification (only the tracer brings it)
  [/^@smithy\/service-error-classification$/, 'tracing'],
  [/^@aws-sdk\/(client-dynamodb|lib-dynamodb|util-dynamodb|dynamodb-codec|endpoint-cache|middleware-endpoint-discovery)$/, 'dynamodb'],
  // DynamoDB's endpoint discovery cache
  [/^(mnemonist|obliterator)$/, 'dynamodb'],
  [/^@aws-sdk\/client-secrets-manager$/, 'secretsManager'],
  [
    /^@aws-sdk\/(client-s3|s3-request-presigner|middleware-sdk-s3|signature-v4-multi-region|xml-builder|checksums|middleware-flexible-checksums|middleware-bucket-endpoint|middleware-expect-continue|middleware-location-constraint|middleware-ssec)$/,
    's3',
  ],
  [/^(fast-xml-parser|strnum)$/, 's3'],
  [/^@aws-sdk\/client-sns$/, 'sns'],
  [/^(@smithy\/.+|@aws-sdk\/(core|credential-provider-env|types)|@aws\/lambda-invoke-store|@aws-crypto\/.+|tslib)$/, 'awsSdk'],
  [/^xmlbuilder$/, 'twiml'],
  [/^(twilio\/lib\/webhooks|scmp)$/, 'twilioSignature'],
  // jws and what it loads (jwa's HMAC, and its RSA/ECDSA helpers in the same module)
  [/^(jws|jwa|safe-buffer|ecdsa-sig-formatter|buffer-equal-constant-time)$/, 'jwtSigning'],
  [/^libphonenumber-js$/, 'phoneNumbers'],
];

/** What a package in a bundle is for; undefined for a package no rule knows. */
export function capabilityOf(module: string): Capability | undefined {
  return PACKAGE_CAPABILITIES.find(([pattern]) => pattern.test(module))?.[1];
}

/**
 * What each handler does besides its AWS calls (lambda/handlers/*.ts):
 * - Twilio's webhooks check the signature and answer TwiML (the Debugger and status callbacks an empty `<Response/>`);
 * - the sign-in normalises the typed number and signs the Access Token;
 * - the outgoing call and the Dial's action check a destination's number type (premium rate, shared cost);
 * - the page's own routes, the authorizer (a JWT check on node:crypto) and the upgrade need nothing more.
 */
const HANDLER_USES: Readonly<Record<FunctionId, readonly Capability[]>> = {
  token: ['phoneNumbers', 'jwtSigning'],
  callIncoming: ['twilioSignature', 'twiml'],
  callOutgoing: ['twilioSignature', 'twiml', 'phoneNumbers'],
  callAction: ['twilioSignature', 'twiml', 'phoneNumbers'],
  forwardScreen: ['twilioSignature', 'twiml'],
  recordingStatus: ['twilioSignature', 'twiml'],
  callStatus: ['twilioSignature', 'twiml'],
  twilioDebugger: ['twilioSignature', 'twiml'],
  preflight: ['twilioSignature', 'twiml'],
  voicemails: [],
  directory: [],
  calls: [],
  pageAuthorizer: [],
  registryUpgrade: [],
};

/** Everything a function's bundle may carry, and must: from its grants, its handler's uses and the build. */
export function expectedCapabilities(id: FunctionId, build: { detailedTracing?: boolean } = {}): Set<Capability> {
  const access = ACCESS[id];
  const uses = new Set<Capability>(['own', 'logsAndMetrics', ...HANDLER_USES[id]]);
  const tables = [access.registry, access.attempts, access.legacyDevices, access.calls, access.callsByLine];
  if (tables.some((actions) => actions !== undefined && actions.length > 0)) uses.add('dynamodb');
  if (access.twilioSecret) uses.add('secretsManager');
  if (access.recordings?.length) uses.add('s3');
  if (access.publishVoicemail) uses.add('sns');
  if (['dynamodb', 'secretsManager', 's3', 'sns'].some((c) => uses.has(c as Capability))) uses.add('awsSdk');
  if (build.detailedTracing) uses.add('tracing');
  return uses;
}

export interface BundleContentsVerdict {
  /** modules in the bundle its function never uses, with what they are for */
  unused: { module: string; capability: Capability; bytes: number }[];
  /** modules no rule knows */
  unknown: { module: string; bytes: number }[];
  /** capabilities the function should carry but does not (the declaration is stale) */
  missing: Capability[];
}

/** Checks one bundle's metafile (its JavaScript output) against its function's expected capabilities. */
export function checkBundleContents(id: FunctionId, metafile: Metafile, build: { detailedTracing?: boolean } = {}): BundleContentsVerdict {
  const expected = expectedCapabilities(id, build);
  const bytes = new Map<string, number>();
  for (const [outputPath, output] of Object.entries(metafile.outputs)) {
    if (!outputPath.endsWith('.js')) continue;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (bytesInOutput === 0) continue; // parsed, then dropped by tree-shaking
      const module = moduleOf(input);
      bytes.set(module, (bytes.get(module) ?? 0) + bytesInOutput);
    }
  }
  const verdict: BundleContentsVerdict = { unused: [], unknown: [], missing: [] };
  const present = new Set<Capability>();
  for (const [module, n] of bytes) {
    const capability = capabilityOf(module);
    if (capability === undefined) verdict.unknown.push({ module, bytes: n });
    else if (!expected.has(capability)) verdict.unused.push({ module, capability, bytes: n });
    else present.add(capability);
  }
  verdict.missing = [...expected].filter((c) => !present.has(c));
  return verdict;
}

/** One line for a report: "ok", or what is carried but unused, unknown or missing. */
export function describeVerdict(v: BundleContentsVerdict): string {
  const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
  const parts = [
    ...v.unused.map((u) => `${u.module} (${u.capability}, ${kb(u.bytes)}) never used`),
    ...v.unknown.map((u) => `${u.module} (${kb(u.bytes)}) unclassified`),
    ...v.missing.map((c) => `${c} expected but absent`),
  ];
  return parts.length === 0 ? 'only what its handler uses' : parts.join('; ');
}
