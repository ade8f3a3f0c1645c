'use strict';
// Warm latency probe, run in its own `node` process (NODE_PATH = the repo's node_modules, like the Lambda
// runtime's): loads a function's bundle built with the AWS SDK external so aws-sdk-client-mock can stub the very
// client classes the bundle uses, warms it up (the Twilio secret is fetched once, then cached), then times
// many sequential invocations. Every crypto.scrypt call is timed too, so the token handler's deliberate
// device-secret hash cost is reported on its own and subtracted per invocation.
//
// Nothing leaves the machine: DynamoDB, Secrets Manager, S3 and SNS are mocked; `fetch` is a stub that answers
// Twilio's recording download and delete and refuses anything else; any other outgoing connection throws.
//
// argv[2]: JSON { bundle, helpers, kind: FunctionId, iterations, warmup, memoizeScrypt, fixture, resourcePaths }
// (memoizeScrypt: each distinct hash is computed once, then served from a memo on the next tick.)
// Result: sent over IPC as { ok: true, firstUs, totalUs: number[], netUs: number[], scryptUs: number[],
// secretFetches, secretFetchesAfterWarmup, callsPerInvocation } or { ok: false, error }.
const crypto = require('node:crypto');
const net = require('node:net');

const opts = JSON.parse(process.argv[2]);
const { fixture } = opts;

// --- no network ------------------------------------------------------------------------------------------
// (the IPC channel to the parent is an inherited pipe, never connected here)
net.Socket.prototype.connect = function connect() {
  throw new Error('the warm probe opens no connection: a client escaped its mock');
};

// --- scrypt accounting (patched before the bundle captures crypto.scrypt) -------------------------------
let scryptNs = 0n;
const scryptSamples = [];
const originalScrypt = crypto.scrypt;
const originalScryptSync = crypto.scryptSync;
const memo = new Map();
crypto.scrypt = function scrypt(...args) {
  const callback = args.pop();
  const memoKey = opts.memoizeScrypt ? JSON.stringify([String(args[0]), Buffer.from(args[1]).toString('hex'), args[2], args[3]]) : undefined;
  const t0 = process.hrtime.bigint();
  const done = (err, key) => {
    const dt = process.hrtime.bigint() - t0;
    scryptNs += dt;
    scryptSamples.push(Number(dt) / 1000);
    callback(err, key);
  };
  if (memoKey !== undefined && memo.has(memoKey)) return setImmediate(done, null, Buffer.from(memo.get(memoKey)));
  return originalScrypt.call(crypto, ...args, (err, key) => {
    if (memoKey !== undefined && !err) memo.set(memoKey, Buffer.from(key));
    done(err, key);
  });
};
crypto.scryptSync = function scryptSync(...args) {
  const t0 = process.hrtime.bigint();
  try {
    return originalScryptSync.apply(crypto, args);
  } finally {
    const dt = process.hrtime.bigint() - t0;
    scryptNs += dt;
    scryptSamples.push(Number(dt) / 1000);
  }
};

function fail(error) {
  process.send({ ok: false, error: String(error?.stack ? error.stack : error) }, () => process.exit(1));
}

/** What the handlers asked of the (mocked) clouds; `last` keeps the latest request of each kind for the checks. */
const calls = { dynamodb: 0, secrets: 0, s3: 0, sns: 0, twilio: 0 };
const last = {};

async function main() {
  const { mockClient } = require('aws-sdk-client-mock');
  const ddb = require('@aws-sdk/client-dynamodb');
  const doc = require('@aws-sdk/lib-dynamodb');
  const { SecretsManagerClient } = require('@aws-sdk/client-secrets-manager');
  const { S3Client } = require('@aws-sdk/client-s3');
  const { SNSClient } = require('@aws-sdk/client-sns');
  const { marshall, unmarshall } = require('@aws-sdk/util-dynamodb');
  const { getExpectedTwilioSignature } = require('twilio/lib/webhooks/webhooks');

  const helpers = require(opts.helpers);
  const secretHash = await helpers.hashDeviceSecret(fixture.deviceSecret);
  const registry = new FakeRegistry(registryItems(secretHash));

  // --- DynamoDB: the registry table of lines (pk/sk) and the attempts table, answered by request shape ------
  const registryTable = process.env.REGISTRY_TABLE;
  const attemptsTable = process.env.ATTEMPTS_TABLE;
  const table = (input) => {
    if (input.TableName === registryTable) return 'registry';
    if (input.TableName === attemptsTable) return 'attempts';
    throw new Error(`the warm probe has no table ${input.TableName}`);
  };
  const dynamo = {
    get(input) {
      if (table(input) === 'attempts') return {}; // no failures yet: a first try
      const item = registry.get(input.Key);
      return item ? { Item: project(item, input) } : {};
    },
    query(input) {
      if (table(input) === 'attempts') return { Items: [], Count: 0, ScannedCount: 0 };
      const items = registry.query(input).map((item) => project(item, input));
      return { Items: items, Count: items.length, ScannedCount: items.length };
    },
    update(input) {
      if (table(input) === 'attempts' && input.ReturnValues === 'ALL_NEW') {
        // The lockout counts the attempt before the secret is checked: one failure, as for a first try.
        const v = input.ExpressionAttributeValues ?? {};
        return { Attributes: { ...input.Key, failures: 1, lastFailureAt: v[':now'], expiresAt: v[':exp'] } };
      }
      return {}; // forgiveFailure, markHeard, the line's counters: accepted, the fixture unchanged
    },
    put() {
      return {}; // a voicemail kept, a claim: accepted (the conditions hold), the fixture unchanged
    },
    delete(input) {
      if (table(input) === 'attempts') return {};
      const item = registry.get(input.Key);
      return input.ReturnValues === 'ALL_OLD' && item ? { Attributes: item } : {};
    },
    scan(input) {
      if (table(input) === 'attempts') return { Items: [], Count: 0, ScannedCount: 0 };
      return { Items: registry.items, Count: registry.items.length, ScannedCount: registry.items.length };
    },
  };
  const counted = (fn) => (input) => {
    calls.dynamodb += 1;
    return fn(input);
  };
  const docMock = mockClient(doc.DynamoDBDocumentClient);
  docMock.on(doc.GetCommand).callsFake(counted(dynamo.get));
  docMock.on(doc.QueryCommand).callsFake(counted(dynamo.query));
  docMock.on(doc.UpdateCommand).callsFake(counted(dynamo.update));
  docMock.on(doc.PutCommand).callsFake(counted(dynamo.put));
  docMock.on(doc.DeleteCommand).callsFake(counted(dynamo.delete));
  docMock.on(doc.ScanCommand).callsFake(counted(dynamo.scan));
  // The low-level client, should anything use it directly: the same answers, (un)marshalled.
  const raw = (fn) =>
    counted((input) => {
      const plain = { ...input };
      for (const k of ['Key', 'Item', 'ExpressionAttributeValues', 'ExclusiveStartKey']) if (input[k]) plain[k] = unmarshall(input[k]);
      const out = { ...fn(plain) };
      const m = (item) => marshall(item, { removeUndefinedValues: true });
      if (out.Item) out.Item = m(out.Item);
      if (out.Attributes) out.Attributes = m(out.Attributes);
      if (out.Items) out.Items = out.Items.map(m);
      return out;
    });
  const rawMock = mockClient(ddb.DynamoDBClient);
  rawMock.on(ddb.GetItemCommand).callsFake(raw(dynamo.get));
  rawMock.on(ddb.QueryCommand).callsFake(raw(dynamo.query));
  rawMock.on(ddb.UpdateItemCommand).callsFake(raw(dynamo.update));
  rawMock.on(ddb.PutItemCommand).callsFake(raw(dynamo.put));
  rawMock.on(ddb.DeleteItemCommand).callsFake(raw(dynamo.delete));
  rawMock.on(ddb.ScanCommand).callsFake(raw(dynamo.scan));

  mockClient(SecretsManagerClient)
    .onAnyCommand()
    .callsFake(() => {
      calls.secrets += 1;
      return { Name: process.env.TWILIO_SECRET_ID, SecretString: JSON.stringify(fixture.credentials) };
    });
  mockClient(S3Client)
    .onAnyCommand()
    .callsFake((input) => {
      calls.s3 += 1;
      last.s3 = input;
      return { ETag: '"bench"', ServerSideEncryption: 'AES256' };
    });
  mockClient(SNSClient)
    .onAnyCommand()
    .callsFake((input) => {
      calls.sns += 1;
      last.sns = input;
      return { MessageId: '00000000-0000-4000-8000-000000000001' };
    });
  globalThis.fetch = twilioRecordingsFetch;

  const { handler } = require(opts.bundle);
  if (typeof handler !== 'function') throw new Error(`${opts.bundle} exports no handler`);

  const event = makeEvent(opts.kind, helpers, getExpectedTwilioSignature);
  const check = makeCheck(opts.kind);
  const context = {
    functionName: `bench-${opts.kind}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:ap-northeast-1:123456789012:function:bench-${opts.kind}`,
    memoryLimitInMB: '128',
    awsRequestId: '00000000-0000-4000-8000-000000000000',
    logGroupName: '/aws/lambda/bench',
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 3000,
    done() {},
    fail() {},
    succeed() {},
  };
  /** One invocation, checked: its answer and what it asked of the clouds. */
  const checked = async () => {
    const before = { ...calls };
    const result = await handler(event, context);
    const made = Object.fromEntries(Object.entries(calls).map(([k, n]) => [k, n - before[k]]));
    try {
      check(result, made);
    } catch (err) {
      err.message += `\n  answer: ${JSON.stringify(result)?.slice(0, 2000)}\n  calls: ${JSON.stringify(made)}`;
      throw err;
    }
    return result;
  };

  // The first invocation builds the lazily constructed deps (clients, logger) and fetches the secret.
  const tFirst = process.hrtime.bigint();
  await checked();
  const firstUs = Number(process.hrtime.bigint() - tFirst) / 1000;
  for (let i = 1; i < opts.warmup; i++) await handler(event, context);
  const secretsAfterWarmup = calls.secrets;

  const totalUs = [];
  const netUs = [];
  const scryptUs = [];
  const callsBefore = { ...calls };
  let invocations = 0;
  for (let i = 0; i < opts.iterations; i++) {
    invocations += 1;
    // The first and the last timed answers are checked too (outside the timing).
    if (i === 0 || i === opts.iterations - 1) {
      await checked();
      continue;
    }
    const scryptBefore = scryptNs;
    const samplesBefore = scryptSamples.length;
    const t0 = process.hrtime.bigint();
    await handler(event, context);
    const dt = process.hrtime.bigint() - t0;
    const inScrypt = scryptNs - scryptBefore;
    totalUs.push(Number(dt) / 1000);
    netUs.push(Number(dt - inScrypt) / 1000);
    for (let j = samplesBefore; j < scryptSamples.length; j++) scryptUs.push(scryptSamples[j]);
  }
  if (totalUs.length === 0) {
    // A run of one or two iterations (the tests): time one more, unchecked.
    invocations += 1;
    const scryptBefore = scryptNs;
    const samplesBefore = scryptSamples.length;
    const t0 = process.hrtime.bigint();
    await handler(event, context);
    const dt = process.hrtime.bigint() - t0;
    totalUs.push(Number(dt) / 1000);
    netUs.push(Number(dt - (scryptNs - scryptBefore)) / 1000);
    for (let j = samplesBefore; j < scryptSamples.length; j++) scryptUs.push(scryptSamples[j]);
  }
  const callsPerInvocation = Object.fromEntries(Object.entries(calls).map(([k, n]) => [k, (n - callsBefore[k]) / invocations]));
  process.send(
    {
      ok: true,
      firstUs,
      totalUs,
      netUs,
      scryptUs,
      secretFetches: calls.secrets,
      secretFetchesAfterWarmup: calls.secrets - secretsAfterWarmup,
      callsPerInvocation,
    },
    () => process.exit(0),
  );
}

// --- the registry's content -------------------------------------------------------------------------------

/**
 * One line (the fixture's number) with two members, three voicemails (one heard), and each member's name claim,
 * as lambda/adapters/registry-schema.ts lays them out. The line keeps the default settings: simultaneous ring,
 * no forward number, voicemail on, always open.
 */
function registryItems(secretHash) {
  const line = fixture.phoneNumber;
  const pk = `LINE#${line}`;
  const nowSeconds = Math.floor(Date.now() / 1000);
  const members = [
    { clientName: fixture.clientName, label: 'Front desk', createdAt: '2024-01-01T00:00:00.000Z' },
    { clientName: fixture.teammateClientName, label: 'Bob', createdAt: '2024-01-02T00:00:00.000Z' },
  ];
  const voicemails = [1, 2, 3].map((n) => ({
    pk,
    sk: `VOICEMAIL#RE${String(n).padStart(32, '0')}`,
    from: fixture.caller,
    callSid: `CA${String(n).padStart(32, '0')}`,
    durationSeconds: 10 + n,
    recordingKey: `voicemail/${line.slice(1)}/RE${String(n).padStart(32, '0')}.mp3`,
    heard: n === 1,
    receivedAt: `2024-01-0${n}T09:00:00.000Z`,
    expiresAt: nowSeconds + 30 * 86400,
  }));
  return [
    {
      pk,
      sk: 'LINE',
      number: line,
      settings: { ringSeconds: 20, strategy: 'simultaneous', voicemail: true, language: 'en-US' },
      memberCount: members.length,
      createdAt: members[0].createdAt,
      updatedAt: members[1].createdAt,
    },
    ...members.map((m) => ({ pk, sk: `MEMBER#${m.clientName}`, clientName: m.clientName, secretHash, label: m.label, createdAt: m.createdAt })),
    ...voicemails,
    ...members.map((m) => ({ pk: `CLIENT#${m.clientName}`, sk: 'CLIENT', line, claimedAt: 1704067200 })),
  ];
}

/** The registry table, read-only: GetItem by pk/sk, Query on a pk with `sk < :v`, `begins_with(sk, :v)` or none. */
class FakeRegistry {
  constructor(items) {
    this.items = items;
    this.byPk = new Map();
    for (const item of [...items].sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))) {
      if (!this.byPk.has(item.pk)) this.byPk.set(item.pk, []);
      this.byPk.get(item.pk).push(item);
    }
    this.conditions = new Map();
  }

  get(key) {
    return (this.byPk.get(key?.pk) ?? []).find((i) => i.sk === key.sk);
  }

  query(input) {
    const { pkValue, skTest } = this.condition(input.KeyConditionExpression);
    const values = input.ExpressionAttributeValues ?? {};
    const items = this.byPk.get(values[pkValue]) ?? [];
    return skTest ? items.filter((i) => skTest(i.sk, values)) : items;
  }

  /** `#pk = :pk AND #sk < :below` | `#pk = :pk AND begins_with(#sk, :prefix)` | `#pk = :pk`, parsed once each. */
  condition(expression) {
    let parsed = this.conditions.get(expression);
    if (parsed) return parsed;
    const m = /^\s*#?\w+\s*=\s*(:\w+)\s*(?:AND\s+(.+?))?\s*$/i.exec(expression ?? '');
    if (!m) throw new Error(`the warm probe cannot answer the key condition ${expression}`);
    const [, pkValue, skPart] = m;
    let skTest;
    if (skPart) {
      const less = /^#?\w+\s*<\s*(:\w+)$/.exec(skPart);
      const prefix = /^begins_with\(\s*#?\w+\s*,\s*(:\w+)\s*\)$/i.exec(skPart);
      if (less) skTest = (sk, values) => sk < values[less[1]];
      else if (prefix) skTest = (sk, values) => sk.startsWith(values[prefix[1]]);
      else throw new Error(`the warm probe cannot answer the sort key condition ${skPart}`);
    }
    parsed = { pkValue, skTest };
    this.conditions.set(expression, parsed);
    return parsed;
  }
}

const projections = new Map();
/** The attributes a ProjectionExpression names (as DynamoDB returns them), or the whole item. */
function project(item, input) {
  if (!input.ProjectionExpression) return { ...item };
  let tokens = projections.get(input.ProjectionExpression);
  if (!tokens) {
    tokens = input.ProjectionExpression.split(',').map((t) => t.trim());
    projections.set(input.ProjectionExpression, tokens);
  }
  const names = input.ExpressionAttributeNames ?? {};
  const out = {};
  for (const t of tokens) {
    const name = names[t] ?? t;
    if (item[name] !== undefined) out[name] = item[name];
  }
  return out;
}

// --- Twilio's REST API for recordings ---------------------------------------------------------------------

/** A short message (bytes of an MP3's size class; only their copy costs the handler anything here). */
const RECORDING_AUDIO = Buffer.alloc(16_000, 0xff);
const RECORDING_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Recordings\/(RE[0-9a-f]{32})\.(mp3|json)$/;

/**
 * `fetch` as Twilio answers the recording callback's two calls: `GET …/Recordings/RE….mp3` (the audio, with the
 * API key's Basic auth) and `DELETE …/Recordings/RE….json` (204). Anything else is refused, as if unreachable.
 */
async function twilioRecordingsFetch(input, init = {}) {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const method = String(init.method ?? 'GET').toUpperCase();
  const m = RECORDING_PATH.exec(url.pathname);
  if (url.origin !== 'https://api.twilio.com' || !m) {
    throw new TypeError(`fetch failed: the warm probe answers only Twilio's recordings, not ${method} ${url.origin}${url.pathname}`);
  }
  calls.twilio += 1;
  last.twilio = `${method} ${m[2]}.${m[3]}`;
  const headers = new Headers(init.headers);
  const expected = `Basic ${Buffer.from(`${fixture.credentials.apiKeySid}:${fixture.credentials.apiKeySecret}`).toString('base64')}`;
  if (headers.get('authorization') !== expected || m[1] !== fixture.credentials.accountSid) {
    return Response.json({ code: 20003, message: 'Authenticate', status: 401 }, { status: 401 });
  }
  if (method === 'GET' && m[3] === 'mp3') return new Response(RECORDING_AUDIO, { status: 200, headers: { 'content-type': 'audio/mpeg' } });
  if (method === 'DELETE' && m[3] === 'json') return new Response(null, { status: 204 });
  return Response.json({ code: 20004, message: 'Method not allowed', status: 405 }, { status: 405 });
}

// --- events and checks ------------------------------------------------------------------------------------

/** Each function's event, as API Gateway (through the request templates) hands it over. */
function makeEvent(kind, helpers, sign) {
  const line = fixture.phoneNumber;
  const call = {
    AccountSid: fixture.credentials.accountSid,
    ApiVersion: '2010-04-01',
    CallSid: 'CA0123456789abcdef0123456789abcdef',
    Direction: 'inbound',
  };
  const inbound = { ...call, From: fixture.caller, Caller: fixture.caller, To: line, Called: line };
  /** A webhook Twilio signed: the URL it called (query included) and its form parameters. */
  const webhook = (id, params, query = {}) => {
    const resourcePath = opts.resourcePaths[id];
    if (!resourcePath) throw new Error(`no route for ${id}`);
    const path = `/prod${resourcePath}`;
    const search = new URLSearchParams(query).toString();
    const signature = sign(fixture.credentials.authToken, `https://${fixture.domainName}${path}${search ? `?${search}` : ''}`, params);
    return { params, query, signature, domainName: fixture.domainName, path, resourcePath };
  };
  switch (kind) {
    case 'token':
      // as the page sends it: the number, the secret, and the identity it last signed in as
      return { twilioPhoneNumber: fixture.humanPhoneNumber, deviceSecret: fixture.deviceSecret, clientName: fixture.clientName };
    case 'callIncoming':
      return webhook('callIncoming', { ...inbound, CallStatus: 'ringing' });
    case 'callOutgoing':
      return webhook('callOutgoing', {
        ...call,
        CallStatus: 'ringing',
        ApplicationSid: fixture.credentials.twimlAppSid,
        From: `client:${fixture.clientName}`,
        Caller: `client:${fixture.clientName}`,
        To: '',
        Called: '',
        callOutgoingPhoneNumber: fixture.destination,
        callerPhoneNumber: line,
      });
    case 'callAction':
      // Both members rang (stage ring, next = 2) and nobody answered: no forward number, so voicemail.
      return webhook(
        'callAction',
        {
          ...inbound,
          CallStatus: 'in-progress',
          DialCallStatus: 'no-answer',
          DialCallSid: 'CA00000000000000000000000000000002',
          DialBridged: 'false',
        },
        { stage: 'ring', next: '2' },
      );
    case 'forwardScreen':
      // The forward number answered its leg: the prompt to press 1.
      return webhook(
        'forwardScreen',
        {
          ...call,
          CallSid: 'CA00000000000000000000000000000003',
          ParentCallSid: call.CallSid,
          Direction: 'outbound-dial',
          CallStatus: 'in-progress',
          From: line,
          Caller: line,
          To: fixture.forwardTo,
          Called: fixture.forwardTo,
        },
        { stage: 'prompt', line, caller: fixture.caller },
      );
    case 'recordingStatus':
      return webhook(
        'recordingStatus',
        {
          AccountSid: fixture.credentials.accountSid,
          CallSid: call.CallSid,
          RecordingSid: fixture.recordingSid,
          RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${fixture.credentials.accountSid}/Recordings/${fixture.recordingSid}`,
          RecordingStatus: 'completed',
          RecordingDuration: '14',
          RecordingChannels: '1',
          RecordingStartTime: 'Mon, 01 Jan 2024 09:00:00 +0000',
          RecordingSource: 'RecordVerb',
          ErrorCode: '0',
        },
        { line, caller: fixture.caller },
      );
    case 'voicemails':
      return { identity: fixture.clientName, request: { action: 'list' } };
    case 'directory':
      return { identity: fixture.clientName, request: {} };
    case 'pageAuthorizer': {
      const { token } = helpers.createVoiceAccessToken(fixture.credentials, fixture.clientName, 3600);
      return {
        type: 'TOKEN',
        authorizationToken: `Bearer ${token}`,
        methodArn: `arn:aws:execute-api:ap-northeast-1:123456789012:${fixture.domainName.split('.')[0]}/prod/POST/softphone/voicemails`,
      };
    }
    default:
      throw new Error(`the warm probe has no event for ${kind}`);
  }
}

function expect(ok, what) {
  if (!ok) throw new Error(`${opts.kind}: ${what}`);
}
const includes = (result, text) => typeof result === 'string' && result.includes(text);

/** What each function must answer (and ask of the clouds) for its figures to mean the path they name. */
function makeCheck(kind) {
  const line = fixture.phoneNumber;
  return (result, made) => {
    switch (kind) {
      case 'token':
        expect(result?.success === true && typeof result.capabilityToken === 'string', 'did not issue a token');
        expect(result.capabilityToken.split('.').length === 3, 'the token is not a JWT');
        expect(result.identity === fixture.clientName && result.line === line, 'signed in the wrong device');
        return;
      case 'callIncoming':
        expect(includes(result, '<Dial') && includes(result, 'call_action?stage=ring'), 'did not ring the line with an action');
        for (const name of [fixture.clientName, fixture.teammateClientName]) {
          expect(includes(result, `<Client><Identity>${name}</Identity>`), `did not ring ${name}`);
        }
        expect(includes(result, '<Parameter'), 'rang without the caller parameter');
        return;
      case 'callOutgoing':
        expect(includes(result, '<Number>+819059876543</Number>') && includes(result, `callerId="${line}"`), 'did not dial the number from the line');
        return;
      case 'callAction':
        expect(includes(result, '<Record') && includes(result, 'recording_status'), 'did not take a voicemail');
        return;
      case 'forwardScreen':
        expect(includes(result, '<Gather') && includes(result, 'stage=answer'), 'did not prompt the forward number to press 1');
        return;
      case 'recordingStatus':
        expect(includes(result, '<Response'), 'did not answer TwiML');
        expect(
          made.twilio === 2 && last.twilio === `DELETE ${fixture.recordingSid}.json`,
          `did not download and delete Twilio's copy (${made.twilio} calls)`,
        );
        expect(made.s3 === 1 && last.s3?.Bucket === process.env.RECORDINGS_BUCKET, 'did not store the recording');
        expect(
          last.s3.Key === `voicemail/${line.slice(1)}/${fixture.recordingSid}.mp3` && last.s3.Body?.length === RECORDING_AUDIO.length,
          'stored something else',
        );
        expect(made.sns === 1 && last.sns?.TopicArn === process.env.VOICEMAIL_TOPIC_ARN, 'did not announce the voicemail');
        return;
      case 'voicemails':
        expect(result?.success === true && result.line === line, 'did not list the line');
        expect(result.voicemails?.length === 3 && result.unheard === 2, 'listed other voicemails');
        return;
      case 'directory':
        expect(result?.success === true && result.you === fixture.clientName && result.line?.number === line, 'did not answer the line');
        expect(result.members?.map((m) => m.clientName).join() === [fixture.clientName, fixture.teammateClientName].join(), 'listed other members');
        return;
      case 'pageAuthorizer': {
        const statement = result?.policyDocument?.Statement?.[0];
        expect(statement?.Effect === 'Allow' && statement.Action === 'execute-api:Invoke', 'did not allow');
        expect(statement.Resource.endsWith('/prod/*/softphone/*'), 'allowed another resource');
        expect(result.principalId === fixture.clientName && result.context?.identity === fixture.clientName, 'passed on another identity');
        return;
      }
      default:
        throw new Error(`the warm probe has no check for ${kind}`);
    }
  };
}

main().catch(fail);
