/**
 * The deployed artifacts: each route's function bundled with the stack's own settings (`lib/lambda-bundling.ts`, the
 * same options the CDK passes to esbuild), then loaded in a fresh Node.js process the way the Lambda runtime
 * loads it: credentials only from the environment (as Lambda provides them), DynamoDB on dynalite, and
 * Secrets Manager on a local fake of its JSON API (an AWS cloud endpoint, so faked).
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { type FunctionId, ROUTES, SUPPORT_FUNCTIONS } from '../../lib/api/routes';
import { capabilityOf, checkBundleContents } from '../../lib/bench/bundle-contents';
import { lambdaEsbuildOptions } from '../../lib/lambda-bundling';
import { useDynalite } from '../support/dynalite';
import {
  API_DOMAIN,
  DEVICE_CLIENT,
  DEVICE_NUMBER,
  DEVICE_NUMBER_TYPED,
  DEVICE_SECRET,
  INCOMING_RESOURCE,
  incomingCallParams,
  incomingTwiml,
  OUTGOING_RESOURCE,
  OUTGOING_TWIML,
  outgoingCallParams,
  signedEvent,
  TEST_CREDENTIALS,
} from '../support/fixtures';
import { emfMetrics, registerDevice } from './helpers';

const ROOT = path.resolve(__dirname, '../..');
/** Each handler's own module, by function (lambda/handlers/index.ts): every route's, and the support functions'. */
const HANDLER_MODULES: Record<FunctionId, string> = {
  token: 'token.ts',
  callIncoming: 'incoming-call.ts',
  callOutgoing: 'outgoing-call.ts',
  callAction: 'call-action.ts',
  forwardScreen: 'forward-screen.ts',
  recordingStatus: 'recording-status.ts',
  callStatus: 'call-status.ts',
  twilioDebugger: 'twilio-debugger.ts',
  preflight: 'preflight.ts',
  voicemails: 'voicemails.ts',
  directory: 'directory.ts',
  calls: 'calls.ts',
  pageAuthorizer: 'page-authorizer.ts',
  registryUpgrade: 'registry-upgrade.ts',
};
/** Every function of the stack: one per route, and the support functions. */
const FUNCTION_IDS: FunctionId[] = [...ROUTES.map((r) => r.id), ...SUPPORT_FUNCTIONS.map((f) => f.id)];
const run = promisify(execFile);

/** Fresh tables for every test (the registry, sign-in attempts, the call log), with the walkthrough's device registered. */
const db = useDynalite({ seed: ({ lines }) => registerDevice(lines) });
/** Call SIDs as Twilio makes them (the call log keeps only those). */
const callSid = (n: number) => `CA${n.toString(16).padStart(32, '0')}`;
let dir: string;
let secretsManager: Server;
let secretsEndpoint: string;
const secretRequests: { target?: string; authorization?: string; body: string }[] = [];
const bundles: Record<string, { file: string; metafile: Metafile }> = {};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'softphone-bundles-'));
  secretsManager = createServer(async (req, res) => {
    const body = await readBody(req);
    secretRequests.push({ target: req.headers['x-amz-target'] as string, authorization: req.headers.authorization, body });
    res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
    res.end(
      JSON.stringify({
        ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:twilio-AbCdEf',
        Name: 'twilio',
        VersionId: 'v1',
        SecretString: JSON.stringify(TEST_CREDENTIALS),
      }),
    );
  });
  await new Promise<void>((resolve) => secretsManager.listen(0, '127.0.0.1', resolve));
  secretsEndpoint = `http://127.0.0.1:${(secretsManager.address() as AddressInfo).port}`;
  for (const id of FUNCTION_IDS) {
    const file = path.join(dir, id, 'index.js');
    const result = await build({ ...lambdaEsbuildOptions(id, file), absWorkingDir: ROOT, metafile: true, logLevel: 'silent' });
    bundles[id] = { file, metafile: result.metafile! };
  }
  // the token function as `-c detailedTracing=true` builds it (Powertools Tracer bundled)
  const traced = path.join(dir, 'token-traced', 'index.js');
  const result = await build({
    ...lambdaEsbuildOptions('token', traced, { detailedTracing: true }),
    absWorkingDir: ROOT,
    metafile: true,
    logLevel: 'silent',
  });
  bundles.tokenTraced = { file: traced, metafile: result.metafile! };
}, 240_000);

afterAll(async () => {
  await new Promise((resolve) => secretsManager?.close(resolve));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A Lambda context as the runtime passes it (the fields Powertools reads). */
const CONTEXT = {
  functionName: 'TwilioRetrieveCapabilityToken',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:TwilioRetrieveCapabilityToken',
  memoryLimitInMB: '1024',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  logGroupName: '/aws/lambda/TwilioRetrieveCapabilityToken',
  logStreamName: '2024/01/01/[$LATEST]abc',
};

/**
 * Loads a bundle in a fresh process, as the Lambda runtime would, and invokes its handler once with a Lambda
 * context; returns its result or error, its log lines and its metrics (EMF documents), all JSON on stdout.
 */
async function invoke(
  route: FunctionId | 'tokenTraced',
  event: unknown,
  logLevel = 'SILENT',
  extraEnv: Record<string, string> = {},
): Promise<{ result?: unknown; error?: string; logs: Record<string, unknown>[]; emf: Record<string, unknown>[] }> {
  const script = `const write = process.stdout.write.bind(process.stdout);
    require(${JSON.stringify(bundles[route].file)}).handler(JSON.parse(process.argv[1]), JSON.parse(process.argv[2])).then(
    (result) => write('\\n' + JSON.stringify({ outcome: { result } })),
    (err) => write('\\n' + JSON.stringify({ outcome: { error: err.message } })))`;
  const { stdout } = await run(process.execPath, ['-e', script, JSON.stringify(event), JSON.stringify(CONTEXT)], {
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDBUNDLETEST',
      AWS_SECRET_ACCESS_KEY: 'bundle-test-secret-not-real',
      AWS_SESSION_TOKEN: 'bundle-test-session',
      // set by the Lambda runtime; Powertools reports cold starts only for on-demand environments
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint,
      // No shared config or credentials files: the environment is the only source, as in Lambda.
      AWS_CONFIG_FILE: path.join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'),
      REGISTRY_TABLE: db.registryTable,
      ATTEMPTS_TABLE: db.attemptsTable,
      // set for every bundle here: the ones that do not use the call log must not mind it
      CALLS_TABLE: db.callsTable,
      TWILIO_SECRET_ID: 'twilio',
      POWERTOOLS_LOG_LEVEL: logLevel,
      ...extraEnv,
    },
  });
  const lines = stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const outcome = lines.pop()!.outcome as { result?: unknown; error?: string };
  return { ...outcome, logs: lines.filter((l) => !('_aws' in l)), emf: lines.filter((l) => '_aws' in l) };
}

/** The source files with code in a bundle (the metafile's `inputs` also lists files parsed, then dropped). */
function bundled(route: FunctionId | 'tokenTraced'): string[] {
  const output = Object.values(bundles[route].metafile.outputs).find((o) => o.entryPoint)!;
  return Object.entries(output.inputs)
    .filter(([, i]) => i.bytesInOutput > 0)
    .map(([file]) => file);
}

test('one entry for every function: each bundle holds its own handler and none of the others', () => {
  for (const id of FUNCTION_IDS) {
    const handlers = bundled(id).filter((i) => i.startsWith('lambda/handlers/'));
    const own = `lambda/handlers/${HANDLER_MODULES[id]}`;
    expect(handlers).toContain(own);
    for (const other of Object.values(HANDLER_MODULES).filter((m) => m !== HANDLER_MODULES[id]))
      expect(handlers).not.toContain(`lambda/handlers/${other}`);
  }
});

test('every log line of an invocation carries the request id, the cold-start flag and the route', async () => {
  const { result, logs } = await invoke('token', { twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET }, 'INFO');
  expect(result).toMatchObject({ success: true });
  expect(logs.length).toBeGreaterThan(0);
  for (const line of logs)
    expect(line).toMatchObject({ function_request_id: CONTEXT.awsRequestId, cold_start: true, route: 'token', function_name: CONTEXT.functionName });
  expect(logs.map((l) => l.message)).toContain('token issued');
  expect(JSON.stringify(logs)).not.toContain(DEVICE_SECRET);
});

test('the SDK default credential chain is replaced by environment credentials in every bundle', () => {
  for (const id of FUNCTION_IDS) {
    const inputs = bundled(id);
    expect(inputs.some((i) => i.endsWith('lambda/adapters/env-credential-provider.ts'))).toBe(true);
    expect(inputs.filter((i) => /@aws-sdk\/(credential-provider-(node|ini|sso|process|web-identity)|nested-clients)\//.test(i))).toEqual([]);
  }
});

test('each bundle carries only the AWS clients its function uses: S3 for the voicemail ones, SNS only for new voicemails, Secrets Manager where the secret is read, DynamoDB where a table is', () => {
  const clientsIn = (id: FunctionId) =>
    [...new Set(bundled(id).flatMap((i) => /node_modules\/@aws-sdk\/(client-[\w-]+)\//.exec(i)?.[1] ?? []))].sort();
  const expected: Record<FunctionId, string[]> = {
    token: ['client-dynamodb', 'client-secrets-manager'],
    callIncoming: ['client-dynamodb', 'client-secrets-manager'],
    callOutgoing: ['client-dynamodb', 'client-secrets-manager'],
    callAction: ['client-dynamodb', 'client-secrets-manager'],
    forwardScreen: ['client-dynamodb', 'client-secrets-manager'],
    recordingStatus: ['client-dynamodb', 'client-s3', 'client-secrets-manager', 'client-sns'],
    callStatus: ['client-dynamodb', 'client-secrets-manager'],
    twilioDebugger: ['client-secrets-manager'],
    preflight: ['client-dynamodb', 'client-secrets-manager'],
    voicemails: ['client-dynamodb', 'client-s3'],
    directory: ['client-dynamodb'],
    calls: ['client-dynamodb'],
    pageAuthorizer: ['client-secrets-manager'],
    registryUpgrade: ['client-dynamodb'],
  };
  expect(Object.fromEntries(FUNCTION_IDS.map((id) => [id, clientsIn(id)]))).toEqual(expected);
});

test('phone metadata: min for sign-in, max (number types) only where a destination is dialled, none elsewhere', () => {
  const metadataOf = (id: FunctionId) => bundled(id).filter((i) => /libphonenumber-js\/metadata\.\w+\.json/.test(i));
  const libphonenumberIn = (id: FunctionId) => bundled(id).some((i) => i.includes('node_modules/libphonenumber-js/'));
  expect(metadataOf('token')).toEqual([expect.stringMatching(/metadata\.min\.json/)]);
  // outgoing calls, and a line's forward number (checked against the destination policy when the Dial's action
  // webhook forwards; the incoming call never does)
  for (const id of ['callOutgoing', 'callAction'] as const) {
    expect([id, metadataOf(id)]).toEqual([id, [expect.stringMatching(/metadata\.max\.json/)]]);
  }
  const without = FUNCTION_IDS.filter((id) => !['token', 'callOutgoing', 'callAction'].includes(id));
  expect(without).toEqual([
    'callIncoming',
    'forwardScreen',
    'recordingStatus',
    'callStatus',
    'twilioDebugger',
    'preflight',
    'voicemails',
    'directory',
    'calls',
    'pageAuthorizer',
    'registryUpgrade',
  ]);
  for (const id of without) expect([id, libphonenumberIn(id)]).toEqual([id, false]);
});

test('the bundled token handler signs in with environment credentials only', async () => {
  const { result, error } = await invoke('token', { twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET });
  expect(error).toBeUndefined();
  expect(result).toMatchObject({ success: true, identity: 'DeviceId_0001' });
  const fetch = secretRequests.at(-1)!;
  expect(fetch.target).toBe('secretsmanager.GetSecretValue');
  expect(JSON.parse(fetch.body)).toMatchObject({ SecretId: 'twilio' });
  expect(fetch.authorization).toContain('Credential=AKIDBUNDLETEST/'); // signed with the environment's key
});

/** The status callback attributes our TwiML gives a dialled leg (lambda/core/twiml.ts), reporting to the call log. */
const statusCallback = (query: string) =>
  `statusCallback="https://${API_DOMAIN}/prod/twilio/call_status?${query}" statusCallbackMethod="POST" statusCallbackEvent="initiated ringing answered completed"`;
/** The walkthrough's answers with each dialled leg reporting its progress (a fixture that already has them is kept). */
const INCOMING_WITH_STATUS = incomingTwiml().replace(
  '<Client>',
  `<Client ${statusCallback('leg=member&amp;line=%2B815031234567&amp;caller=%2B819059876543')}>`,
);
const OUTGOING_WITH_STATUS = OUTGOING_TWIML.replace(
  '<Number>',
  `<Number ${statusCallback('leg=callee&amp;line=%2B815031234567&amp;client=DeviceId_0001')}>`,
);

test('the bundled TwiML handlers answer signed webhooks and refuse unsigned ones', async () => {
  const incoming = await invoke('callIncoming', signedEvent(INCOMING_RESOURCE, incomingCallParams()));
  expect(incoming.result).toBe(INCOMING_WITH_STATUS);
  // Twilio names every call with a real CallSid: the outgoing handler holds the call's places under it
  const outgoing = await invoke('callOutgoing', signedEvent(OUTGOING_RESOURCE, outgoingCallParams({ CallSid: callSid(1) })));
  expect(outgoing.result).toBe(OUTGOING_WITH_STATUS);
  const premium = await invoke(
    'callOutgoing',
    signedEvent(OUTGOING_RESOURCE, outgoingCallParams({ CallSid: callSid(2), callOutgoingPhoneNumber: '+81 990 123 456' })),
  );
  expect(premium.result).toMatch(/<Say[^>]*>.+<\/Say><Hangup\/><\/Response>$/);
  expect(await invoke('callIncoming', { params: { To: '+815031234567' }, signature: '' })).toMatchObject({ error: '[403] Forbidden' });
  // the bundles wrote the call log on CALLS_TABLE: the dialled call's places, the refused call's record
  expect(
    await db.calls.claimSlots({
      line: DEVICE_NUMBER,
      clientName: DEVICE_CLIENT,
      callSid: callSid(1),
      perDevice: 1,
      perLine: 1,
      nowSeconds: Math.floor(Date.now() / 1000),
      holdSeconds: 60,
    }),
  ).toBe('ok');
  expect(
    await db.calls.claimSlots({
      line: DEVICE_NUMBER,
      clientName: DEVICE_CLIENT,
      callSid: callSid(3),
      perDevice: 1,
      perLine: 1,
      nowSeconds: Math.floor(Date.now() / 1000),
      holdSeconds: 60,
    }),
  ).toBe('device-busy');
  expect(await db.calls.get(callSid(2))).toMatchObject({ refused: expect.any(String), placedBy: DEVICE_CLIENT, line: DEVICE_NUMBER });
});

test("the bundled call log: Twilio's status callbacks write it (CALLS_TABLE), the page reads it back", async () => {
  const status = (params: Record<string, string>, query?: Record<string, string>) =>
    invoke('callStatus', signedEvent('/twilio/call_status', { AccountSid: TEST_CREDENTIALS.accountSid, ...params }, query ? { query } : {}));
  // a call to the line that nobody answers: the number's callback for the call, a member's leg
  const ringing = await status({ CallSid: callSid(10), CallStatus: 'ringing', From: '+819059876543', To: DEVICE_NUMBER });
  expect(ringing).toMatchObject({ result: '<?xml version="1.0" encoding="UTF-8"?><Response/>', logs: [] });
  await status(
    { CallSid: callSid(11), ParentCallSid: callSid(10), CallStatus: 'no-answer', To: `client:${DEVICE_CLIENT}` },
    {
      leg: 'member',
      line: DEVICE_NUMBER,
      caller: '+819059876543',
    },
  );
  await status({ CallSid: callSid(10), CallStatus: 'completed', From: '+819059876543', To: DEVICE_NUMBER });
  expect(await invoke('callStatus', { params: { CallSid: callSid(12) }, signature: '' })).toMatchObject({ error: '[403] Forbidden' });

  const list = await invoke('calls', { identity: DEVICE_CLIENT, request: { action: 'list' } });
  expect(list.error).toBeUndefined();
  expect(list.result).toMatchObject({
    success: true,
    line: DEVICE_NUMBER,
    unseenMissed: 1,
    calls: [expect.objectContaining({ callSid: callSid(10), direction: 'incoming', remote: '+819059876543', outcome: 'missed' })],
  });
  const until = new Date().toISOString();
  expect((await invoke('calls', { identity: DEVICE_CLIENT, request: { action: 'markSeen', until } })).result).toEqual({
    success: true,
    seenUntil: until,
  });
  expect((await invoke('calls', { identity: DEVICE_CLIENT, request: { action: 'list' } })).result).toMatchObject({ unseenMissed: 0 });
});

test('the bundles write their metrics as EMF on stdout: the invocation’s own, and HandlerLatency by Function', async () => {
  const token = await invoke('token', { twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET });
  expect(token.result).toMatchObject({ success: true });
  const written = token.emf.flatMap(emfMetrics).map((m) => [m.namespace, m.name, m.unit, m.dimensions]);
  expect(written).toEqual([
    ['TwilioSoftphone', 'SignIn', 'Count', { service: 'twilio-softphone', Result: 'ok' }],
    ['TwilioSoftphone', 'HandlerLatency', 'Milliseconds', { service: 'twilio-softphone', Function: 'token' }],
  ]);
  const refused = await invoke('preflight', { params: { From: `client:${DEVICE_CLIENT}` }, signature: '' });
  expect(refused.error).toBe('[403] Forbidden');
  expect(refused.emf.flatMap(emfMetrics).map((m) => m.name)).toEqual(['SignatureRejected', 'HandlerLatency']);
});

test('no bundle carries a module its handler never uses (metafile against grants and handler uses, lib/bench/bundle-contents.ts)', () => {
  for (const id of FUNCTION_IDS) expect([id, checkBundleContents(id, bundles[id].metafile)]).toEqual([id, { unused: [], unknown: [], missing: [] }]);
  expect(checkBundleContents('token', bundles.tokenTraced.metafile, { detailedTracing: true })).toEqual({ unused: [], unknown: [], missing: [] });
  // the unhappy answers, on real bundles: the tracer where it was not asked for; the sign-in's modules in the
  // authorizer (which asks DynamoDB nothing and signs nothing); a declared use the bundle lacks
  const untraced = checkBundleContents('token', bundles.tokenTraced.metafile);
  expect(new Set(untraced.unused.map((u) => u.capability))).toEqual(new Set(['tracing']));
  expect(untraced.unused.map((u) => u.module)).toEqual(expect.arrayContaining(['@aws-lambda-powertools/tracer', 'aws-xray-sdk-core']));
  const asAuthorizer = checkBundleContents('pageAuthorizer', bundles.token.metafile);
  expect(new Set(asAuthorizer.unused.map((u) => u.capability))).toEqual(new Set(['dynamodb', 'jwtSigning', 'phoneNumbers']));
  expect(checkBundleContents('callIncoming', bundles.pageAuthorizer.metafile).missing).toEqual(
    expect.arrayContaining(['dynamodb', 'twiml', 'twilioSignature']),
  );
  expect(capabilityOf('left-pad')).toBeUndefined();
});

test('Powertools Tracer and the X-Ray SDK are in a bundle only when built with detailedTracing', () => {
  const tracerIn = (id: FunctionId | 'tokenTraced') =>
    bundled(id).filter((i) => /node_modules\/(@aws-lambda-powertools\/tracer|aws-xray-sdk-core)\//.test(i));
  for (const id of FUNCTION_IDS) expect([id, tracerIn(id)]).toEqual([id, []]);
  expect(tracerIn('tokenTraced').length).toBeGreaterThan(0);
});

test('without detailedTracing, nothing is sent to X-Ray even in Lambda with a trace id (Lambda records the function itself)', async () => {
  const daemon = createSocket('udp4');
  const documents: string[] = [];
  daemon.on('message', (m) => documents.push(m.toString()));
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  try {
    const { result } = await invoke('token', { twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET }, 'SILENT', {
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      LAMBDA_TASK_ROOT: dir,
      AWS_LAMBDA_FUNCTION_NAME: CONTEXT.functionName,
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=1',
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
    });
    expect(result).toMatchObject({ success: true });
    // the process has exited, so anything it sent is queued on the socket: give the loop a moment to read it
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(documents).toEqual([]);
  } finally {
    daemon.close();
  }
});

test('with detailedTracing, in Lambda with active tracing, each invocation is an X-Ray subsegment with its AWS calls inside; nothing of the answer', async () => {
  // The X-Ray daemon's side: the SDK sends segment documents over UDP to AWS_XRAY_DAEMON_ADDRESS.
  const daemon = createSocket('udp4');
  const documents: Record<string, unknown>[] = [];
  daemon.on('message', (m) => documents.push(JSON.parse(m.toString().split('\n')[1]) as Record<string, unknown>));
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  try {
    const lambdaEnv = {
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      LAMBDA_TASK_ROOT: dir,
      AWS_LAMBDA_FUNCTION_NAME: CONTEXT.functionName,
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=1',
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
    };
    const { result } = await invoke('tokenTraced', { twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET }, 'SILENT', lambdaEnv);
    const token = (result as { capabilityToken: string }).capabilityToken;
    // The process has exited, so its datagrams are in the socket's queue: wait for them to be read (no timing claim).
    for (let i = 0; i < 100 && !documents.some((d) => d.name === '## token'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const own = documents.find((d) => d.name === '## token');
    expect(own).toMatchObject({
      type: 'subsegment',
      parent_id: '557abcec3ee5a047',
      trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      annotations: { ColdStart: true, Service: 'twilio-softphone', route: 'token' },
    });
    const calls = documents.filter((d) => d.parent_id === own?.id).map((d) => [d.name, (d.aws as { operation?: string })?.operation]);
    expect(calls).toEqual(
      expect.arrayContaining([
        ['SecretsManager', 'GetSecretValue'],
        ['DynamoDB', expect.any(String)],
      ]),
    );
    const all = JSON.stringify(documents);
    expect(all).not.toContain(token);
    expect(all).not.toContain(DEVICE_SECRET);
    // without a trace id (tracing not active on the function), nothing is sent
    documents.length = 0;
    const { _X_AMZN_TRACE_ID: _none, ...untraced } = lambdaEnv;
    await invoke('tokenTraced', { twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET }, 'SILENT', untraced);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(documents.filter((d) => d.name === '## token')).toEqual([]);
  } finally {
    daemon.close();
  }
});
