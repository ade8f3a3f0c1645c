'use strict';
// Warm latency probe, run in its own `node` process (NODE_PATH = the repo's node_modules, like the Lambda
// runtime's): loads a function's bundle built with the AWS SDK external so aws-sdk-client-mock can stub the very
// client classes the bundle uses, warms it up (the Twilio secret is fetched once, then cached), then times
// many sequential invocations. Every crypto.scrypt call is timed too, so the token handler's deliberate
// device-secret hash cost is reported on its own and subtracted per invocation.
//
// Nothing leaves the machine: DynamoDB, Secrets Manager, S3 and SNS are mocked; `fetch` is a stub that answers
// Twilio's recording download and delete and refuses anything else; any other outgoing connection throws. The
// registry table is a read-only fixture (writes accepted, nothing changed: every invocation finds the same line);
// the calls table is a real in-memory table (fake-dynamo.cjs: conditional writes, the line index), seeded with a
// line's call log, and a function whose invocation changes it (a call's record) finds it reset before each one.
//
// argv[2]: JSON { bundle, helpers, kind: FunctionId, iterations, warmup, memoizeScrypt, fixture, resourcePaths }
// (memoizeScrypt: each distinct hash is computed once, then served from a memo on the next tick.)
// Result: sent over IPC as { ok: true, firstUs, totalUs: number[], netUs: number[], sdkUs: number[], gcUs: number[], scryptUs: number[],
// secretFetches, secretFetchesAfterWarmup, callsPerInvocation } or { ok: false, error }.
const crypto = require('node:crypto');
const net = require('node:net');
const { FakeTable, project: projectItem } = require('./fake-dynamo.cjs');
/** An item as a read returns it: its projection, or a copy of the whole item (the store's own is never handed out). */
const project = (item, input) => (input.ProjectionExpression ? projectItem(item, input) : { ...item });

const opts = JSON.parse(process.argv[2]);
const { fixture } = opts;

// --- no network ------------------------------------------------------------------------------------------
// (the IPC channel to the parent is an inherited pipe, never connected here)
net.Socket.prototype.connect = function connect() {
  throw new Error('the warm probe opens no connection: a client escaped its mock');
};

// --- scrypt accounting (patched before the bundle captures crypto.scrypt) -------------------------------
let scryptNs = 0n;
/** Time spent in the DynamoDB stand-in (answering at the SDK's transport), subtracted like the hash's. */
let standInNs = 0n;
/** Time with at least one AWS SDK call in flight (the clients' own work, the stand-in's answer within it). */
let sdkNs = 0n;
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

// --- what the function writes (its log lines, its metrics as EMF): kept for the checked invocations only -------
// Powertools writes through Console instances on process.stdout and process.stderr (the logger's warnings and
// errors), which call the stream's `write` when they print; the timed invocations write on as before (stdout to
// /dev/null, stderr to the parent, which keeps it for an error message).
/** The lines written on stdout and stderr during the checked invocation running. */
const written = [];
let capturing = false;
for (const stream of [process.stdout, process.stderr]) {
  const streamWrite = stream.write;
  stream.write = function write(chunk, ...rest) {
    if (capturing) written.push(String(chunk));
    return streamWrite.call(this, chunk, ...rest);
  };
}
/** The JSON lines written (log lines, EMF documents); other text skipped. */
function writtenJson() {
  const out = [];
  for (const line of written.join('').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // not a whole JSON line: not a log line or an EMF document
    }
  }
  return out;
}

function fail(error) {
  process.send({ ok: false, error: String(error?.stack ? error.stack : error) }, () => process.exit(1));
}

/** What the handlers asked of the (mocked) clouds; `last` keeps the latest request of each kind for the checks. */
const calls = { dynamodb: 0, secrets: 0, s3: 0, sns: 0, twilio: 0 };
const last = {};
/** The DynamoDB requests of a checked invocation, in order: `<table> <operation>[@index][?]` (`?`: conditional), `!<error>` when refused. */
const tableOps = [];
let recordingOps = false;

async function main() {
  const { mockClient } = require('aws-sdk-client-mock');
  const { SecretsManagerClient } = require('@aws-sdk/client-secrets-manager');
  const { S3Client } = require('@aws-sdk/client-s3');
  const { SNSClient } = require('@aws-sdk/client-sns');
  const { marshall, unmarshall } = require('@aws-sdk/util-dynamodb');
  const { getExpectedTwilioSignature } = require('twilio/lib/webhooks/webhooks');

  const helpers = require(opts.helpers);
  const secretHash = await helpers.hashDeviceSecret(fixture.deviceSecret);
  const registry = new FakeRegistry(registryItems(secretHash));
  const callLog = callLogFixture(helpers);
  const callsTable = new FakeTable(helpers.callsTableInput(process.env.CALLS_TABLE), callLog.items);

  // --- DynamoDB: the registry table of lines (pk/sk) and the attempts table, answered by request shape; the
  // calls table by fake-dynamo.cjs --------------------------------------------------------------------------
  const registryTable = process.env.REGISTRY_TABLE;
  const attemptsTable = process.env.ATTEMPTS_TABLE;
  const callsTableName = process.env.CALLS_TABLE;
  const table = (input) => {
    if (input.TableName === registryTable) return 'registry';
    if (input.TableName === attemptsTable) return 'attempts';
    if (input.TableName === callsTableName) return 'calls';
    throw new Error(`the warm probe has no table ${input.TableName}`);
  };
  const dynamo = {
    get(input, t) {
      if (t === 'calls') return callsTable.get(input);
      if (t === 'attempts') return {}; // no failures yet: a first try
      const item = registry.get(input.Key);
      return item ? { Item: project(item, input) } : {};
    },
    query(input, t) {
      if (t === 'calls') return callsTable.query(input);
      if (t === 'attempts') return { Items: [], Count: 0, ScannedCount: 0 };
      const items = registry.query(input).map((item) => project(item, input));
      return { Items: items, Count: items.length, ScannedCount: items.length };
    },
    update(input, t) {
      if (t === 'calls') throw new Error('the call log updates no item (it rewrites a record by a conditional put)');
      if (t === 'attempts' && input.ReturnValues === 'ALL_NEW') {
        // The lockout counts the attempt before the secret is checked: one failure, as for a first try.
        const v = input.ExpressionAttributeValues ?? {};
        return { Attributes: { ...input.Key, failures: 1, lastFailureAt: v[':now'], expiresAt: v[':exp'] } };
      }
      return {}; // forgiveFailure, markHeard, the line's counters: accepted, the fixture unchanged
    },
    put(input, t) {
      if (t === 'calls') return callsTable.put(input);
      return {}; // a voicemail kept, a claim: accepted (the conditions hold), the fixture unchanged
    },
    delete(input, t) {
      if (t === 'calls') return callsTable.delete(input);
      if (t === 'attempts') return {};
      const item = registry.get(input.Key);
      return input.ReturnValues === 'ALL_OLD' && item ? { Attributes: item } : {};
    },
    scan(_input, t) {
      if (t === 'calls') throw new Error('the call log scans nothing');
      if (t === 'attempts') return { Items: [], Count: 0, ScannedCount: 0 };
      return { Items: registry.items, Count: registry.items.length, ScannedCount: registry.items.length };
    },
  };
  const counted = (op, fn) => (input) => {
    calls.dynamodb += 1;
    const t = table(input);
    if (!recordingOps) return fn(input, t);
    const at = tableOps.push(`${t} ${op}${input.IndexName ? `@${input.IndexName}` : ''}${input.ConditionExpression ? '?' : ''}`) - 1;
    try {
      return fn(input, t);
    } catch (err) {
      tableOps[at] += ` !${err.name}`;
      throw err;
    }
  };
  // DynamoDB is answered at the SDK's transport: the clients' own work runs as in Lambda (the Document client's
  // marshalling, serialization, SigV4 signing, retries, deserialization into the SDK's own error classes), only the
  // socket is replaced. (aws-sdk-client-mock stubs `send` itself: none of that ran, while matching each call against
  // every stubbed command with sinon's deepEqual made a quarter of the probe's allocations, and its GC pauses.)
  // The wire format is DynamoDB's JSON protocol: POST, X-Amz-Target `DynamoDB_20120810.<Operation>`, marshalled
  // attribute values; errors are 400 with `__type` (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html).
  const raw = (op, fn) =>
    counted(op, (input, t) => {
      const plain = { ...input };
      for (const k of ['Key', 'Item', 'ExpressionAttributeValues', 'ExclusiveStartKey']) if (input[k]) plain[k] = unmarshall(input[k]);
      const out = { ...fn(plain, t) };
      const m = (item) => marshall(item, { removeUndefinedValues: true });
      if (out.Item) out.Item = m(out.Item);
      if (out.Attributes) out.Attributes = m(out.Attributes);
      if (out.Items) out.Items = out.Items.map(m);
      if (out.LastEvaluatedKey) out.LastEvaluatedKey = m(out.LastEvaluatedKey);
      return out;
    });
  const operations = {
    GetItem: raw('get', dynamo.get),
    Query: raw('query', dynamo.query),
    UpdateItem: raw('update', dynamo.update),
    PutItem: raw('put', dynamo.put),
    DeleteItem: raw('delete', dynamo.delete),
    Scan: raw('scan', dynamo.scan),
  };
  /** The errors DynamoDB itself answers (the stand-in throws them by name); anything else is the probe's own bug. */
  const DYNAMO_ERRORS = new Set(['ConditionalCheckFailedException', 'ValidationException']);
  const { NodeHttpHandler } = require('@smithy/node-http-handler');
  const { HttpResponse } = require('@smithy/core/transport');
  const networkHandle = NodeHttpHandler.prototype.handle;
  // The calls to the clouds, timed apart from the handler's: every AWS SDK client's `send` (the Document client's
  // too) is the smithy Client's, and Twilio's REST API is reached with `fetch` (the recording callback). The time
  // while any call is in flight is counted once, however calls overlap.
  const { Client } = require('@smithy/core/client');
  const clientSend = Client.prototype.send;
  let inFlight = 0;
  let since = 0n;
  const timedCall = (call) => {
    if (inFlight++ === 0) since = process.hrtime.bigint();
    const settle = () => {
      if (--inFlight === 0) sdkNs += process.hrtime.bigint() - since;
    };
    let sent;
    try {
      sent = call();
    } catch (err) {
      settle();
      throw err;
    }
    if (typeof sent?.then !== 'function') {
      settle();
      return sent;
    }
    return sent.then(
      (value) => {
        settle();
        return value;
      },
      (err) => {
        settle();
        throw err;
      },
    );
  };
  Client.prototype.send = function send(...args) {
    return timedCall(() => clientSend.apply(this, args));
  };
  // A read asked again with the same bytes, while no table changed, gets the same bytes back, copied as a socket
  // would deliver them: the stand-in's objects (the request parsed, the fake table's copies, the marshalled answer)
  // are garbage the handler's heap never sees in Lambda, and for the call log's pages of 20 and 100 calls their
  // scavenges fell in the handler's timings. (The registry and the attempts tables never change: the fixture.)
  // Checked invocations always go through the stand-in, which records what they ask.
  const READS = new Set(['GetItem', 'Query', 'Scan']);
  const MAX_ANSWERS = 64;
  const answers = new Map();
  let answersVersion = callsTable.version;
  NodeHttpHandler.prototype.handle = async function handle(request, options) {
    const [service, operation] = String(request.headers['x-amz-target'] ?? '').split('.');
    if (service !== 'DynamoDB_20120810' || !operations[operation]) return networkHandle.call(this, request, options); // no network: throws
    // The stand-in's own time (parsing, the fake table, marshalling) is the cloud's, not the handler's: it is
    // subtracted from the invocation's figures, as the hash's is.
    const t0 = process.hrtime.bigint();
    const text = typeof request.body === 'string' ? request.body : Buffer.from(request.body).toString('utf8');
    if (answersVersion !== callsTable.version) {
      answers.clear();
      answersVersion = callsTable.version;
    }
    const cacheable = !recordingOps && READS.has(operation);
    const known = cacheable ? answers.get(text) : undefined;
    let statusCode = 200;
    let body;
    if (known) {
      calls.dynamodb += 1;
      body = Buffer.from(known);
    } else {
      let payload;
      try {
        payload = operations[operation](JSON.parse(text));
      } catch (err) {
        if (!DYNAMO_ERRORS.has(err.name)) throw err;
        statusCode = 400;
        payload = { __type: `com.amazonaws.dynamodb.v20120810#${err.name}`, message: err.message };
      }
      body = Buffer.from(JSON.stringify(payload));
      if (cacheable && statusCode === 200 && answers.size < MAX_ANSWERS && answersVersion === callsTable.version)
        answers.set(text, Buffer.from(body));
    }
    const headers = { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(body.length), 'x-amzn-requestid': 'BENCH' };
    standInNs += process.hrtime.bigint() - t0;
    return { response: new HttpResponse({ statusCode, headers, body }) };
  };

  // The other clouds through aws-sdk-client-mock: read once per container (the secret) or by one function (S3,
  // SNS). It records every call; the timed loop clears that history between invocations.
  const mocks = [];
  const secretsMock = mockClient(SecretsManagerClient);
  const s3Mock = mockClient(S3Client);
  const snsMock = mockClient(SNSClient);
  mocks.push(secretsMock, s3Mock, snsMock);
  /** A call answered wholly by a stand-in (at once: it awaits nothing): timed as a call, all of it the stand-in's. */
  const standInCall = (answer) =>
    timedCall(() => {
      const t0 = process.hrtime.bigint();
      try {
        return answer();
      } finally {
        standInNs += process.hrtime.bigint() - t0;
      }
    });
  // A mocked client's `send` (a sinon stub on its class, in front of the smithy Client's): none of the SDK's own
  // work runs behind a mock.
  for (const Mocked of [SecretsManagerClient, S3Client, SNSClient]) {
    const stub = Mocked.prototype.send;
    Mocked.prototype.send = function send(...args) {
      return standInCall(() => stub.apply(this, args));
    };
  }
  secretsMock.onAnyCommand().callsFake(() => {
    calls.secrets += 1;
    return { Name: process.env.TWILIO_SECRET_ID, SecretString: JSON.stringify(fixture.credentials) };
  });
  s3Mock.onAnyCommand().callsFake((input) => {
    calls.s3 += 1;
    last.s3 = input;
    return { ETag: '"bench"', ServerSideEncryption: 'AES256' };
  });
  snsMock.onAnyCommand().callsFake((input) => {
    calls.sns += 1;
    last.sns = input;
    return { MessageId: '00000000-0000-4000-8000-000000000001' };
  });
  // Twilio's REST API: reading the body the stub answers stays the handler's.
  globalThis.fetch = (input, init) => standInCall(() => twilioRecordingsFetch(input, init));

  const { handler } = require(opts.bundle);
  if (typeof handler !== 'function') throw new Error(`${opts.bundle} exports no handler`);

  const event = await makeEvent(opts.kind, helpers, getExpectedTwilioSignature, callLog);
  const check = makeCheck(opts.kind, helpers, callLog, callsTable);
  // Before each invocation (outside the timing): the call record it changes is put back as the fixture has it,
  // so every invocation does the same work (a read and a conditional write), not a no-op repeat of the first.
  const resetRecord = { callStatus: callLog.ringing, recordingStatus: callLog.voicemail }[opts.kind]?.item;
  // The mocks' call history is cleared too: kept, it grows with every call and the GC's work with it (the harness's
  // cost, not the handler's: a scavenge pause of 6-8 ms instead of under 1 ms by the end of a run).
  const reset = () => {
    for (const m of mocks) m.resetHistory();
    if (resetRecord) callsTable.write(resetRecord);
  };
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
    reset();
    const before = { ...calls };
    tableOps.length = 0;
    written.length = 0;
    recordingOps = true;
    capturing = true;
    let result;
    try {
      result = await handler(event, context);
    } finally {
      recordingOps = false;
      capturing = false;
    }
    const made = Object.fromEntries(Object.entries(calls).map(([k, n]) => [k, n - before[k]]));
    try {
      check(result, made, [...tableOps], writtenJson());
    } catch (err) {
      err.message += `\n  answer: ${JSON.stringify(result)?.slice(0, 2000)}\n  calls: ${JSON.stringify(made)}\n  DynamoDB: ${tableOps.join(', ')}`;
      throw err;
    }
    return result;
  };

  // The first invocation builds the lazily constructed deps (clients, logger) and fetches the secret.
  const tFirst = process.hrtime.bigint();
  await checked();
  const firstUs = Number(process.hrtime.bigint() - tFirst) / 1000;
  for (let i = 1; i < opts.warmup; i++) {
    reset();
    await handler(event, context);
  }
  const secretsAfterWarmup = calls.secrets;

  const totalUs = [];
  const netUs = [];
  const sdkUs = [];
  const gcUs = [];
  const scryptUs = [];
  // GC pauses (main thread), attributed afterwards to the invocation they fell in (`windows`: performance.now() ms)
  const gcPauses = [];
  const windows = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push([e.startTime, e.duration]);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  /**
   * One timed invocation: its elapsed time (`total`), that time less the device-secret hash's and the calls' to the
   * clouds, AWS SDK and Twilio REST (`net`: the handler's own), and the calls' own work less the stand-ins' answers
   * (`sdk`: the SDK clients' work).
   */
  const timed = async () => {
    reset();
    const scryptBefore = scryptNs;
    const standInBefore = standInNs;
    const sdkBefore = sdkNs;
    const samplesBefore = scryptSamples.length;
    const w0 = performance.now();
    const t0 = process.hrtime.bigint();
    await handler(event, context);
    const dt = process.hrtime.bigint() - t0;
    const w1 = performance.now();
    windows.push([w0, w1]);
    // In a sequential invocation with instant answers, the time in SDK calls is CPU work (the stand-in's within it).
    const inSdkUs = Number(sdkNs - sdkBefore) / 1000;
    const standInUs = Number(standInNs - standInBefore) / 1000;
    totalUs.push(Number(dt) / 1000);
    netUs.push(Number(dt - (scryptNs - scryptBefore)) / 1000 - inSdkUs);
    sdkUs.push(Math.max(0, inSdkUs - standInUs));
    for (let j = samplesBefore; j < scryptSamples.length; j++) scryptUs.push(scryptSamples[j]);
  };
  const callsBefore = { ...calls };
  let invocations = 0;
  for (let i = 0; i < opts.iterations; i++) {
    invocations += 1;
    // The first and the last timed answers are checked too (outside the timing).
    if (i === 0 || i === opts.iterations - 1) {
      await checked();
      continue;
    }
    await timed();
  }
  if (totalUs.length === 0) {
    // A run of one or two iterations (the tests): time one more, unchecked.
    invocations += 1;
    await timed();
  }
  // The observer delivers its entries on a timer, after the loop (which never leaves the microtask queue): wait
  // until a round brings no more.
  for (let seen = -1; seen !== gcPauses.length; ) {
    seen = gcPauses.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  gcObserver.disconnect();
  let next = 0;
  for (const [start, end] of windows) {
    let inside = 0;
    while (next < gcPauses.length && gcPauses[next][0] < start) next += 1;
    for (let k = next; k < gcPauses.length && gcPauses[k][0] < end; k++) inside += gcPauses[k][1];
    gcUs.push(inside * 1000);
  }
  const callsPerInvocation = Object.fromEntries(Object.entries(calls).map(([k, n]) => [k, (n - callsBefore[k]) / invocations]));
  process.send(
    {
      ok: true,
      firstUs,
      totalUs,
      netUs,
      sdkUs,
      gcUs,
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

// --- the call log's content --------------------------------------------------------------------------------

/** A CallSid of the fixture: `CA`, then `tag` and `n` in 32 hex digits. */
const sid = (tag, n = 0) => `CA${tag}${String(n).padStart(32 - tag.length, '0')}`;
/** Twilio's Timestamp of a status callback (RFC 2822). */
const rfc2822 = (ms) => new Date(ms).toUTCString().replace('GMT', '+0000');

/**
 * The calls table, laid out as lambda/adapters/dynamo-call-log.ts writes it (keys from registry-schema.ts, records
 * merged from their events by lambda/core/call-log.ts):
 * - the line's history: 30 calls an hour apart (answered, missed, voicemail, outgoing, in turn), the device's
 *   "seen" mark at the 25th newest (a day ago); 5 calls of another line (the index must keep them apart);
 * - two calls in progress: `ringing` (both members' legs started, the teammate's ringing: the status callback's
 *   case is the first member's leg ringing) and `voicemail` (nobody answered, the caller is recording: the
 *   recording callback's case notes the voicemail);
 * - the line's places of outgoing calls: the device's first place held by a call whose completion never came
 *   (expired), the teammate's call holding the teammate's first place and the line's first place (live). The
 *   outgoing call takes the device's first place over and the line's second.
 * Times are whole seconds (Twilio's Timestamp has no more) before `now`, the probe's start.
 */
function callLogFixture(helpers) {
  const line = fixture.phoneNumber;
  const otherLine = '+815031239999';
  const caller = fixture.caller;
  const destination = '+819059876543';
  const me = fixture.clientName;
  const mate = fixture.teammateClientName;
  const now = Math.floor(Date.now() / 1000) * 1000;
  const nowSeconds = now / 1000;
  const retentionSeconds = Number(process.env.CALL_LOG_RETENTION_DAYS) * 86400;

  const keyText = (k) => `${k[helpers.PK]} ${k[helpers.SK]}`;
  const item = (record, version) => ({
    ...helpers.callKey(record.callSid),
    record,
    version,
    [helpers.TTL_ATTRIBUTE]: Math.floor(record.firstAt / 1000) + retentionSeconds,
    [helpers.CALLS_INDEX_SK]: new Date(record.firstAt).toISOString(),
    ...(record.line ? { [helpers.CALLS_INDEX_PK]: record.line } : {}),
  });
  /** The record of a call's events, and its item as the adapter writes it (one version per event). */
  const call = (events) => {
    const record = events.reduce((r, e) => helpers.mergeCallEvent(r, e), undefined);
    return { record, item: item(record, events.length) };
  };
  const incoming = (callSid, onLine) => ({ callSid, line: onLine, direction: 'incoming', remote: caller });
  const callerLeg = (callSid, onLine, status, at, extra = {}) => ({
    kind: 'status',
    ...incoming(callSid, onLine),
    legSid: callSid,
    role: 'caller',
    to: onLine,
    status,
    at,
    ...extra,
  });
  /** Every leg its own CallSid, as Twilio gives them. */
  const legSids = new Map();
  const legSid = (callSid, n) => {
    const key = `${callSid}/${n}`;
    if (!legSids.has(key)) legSids.set(key, sid('e', legSids.size + 1));
    return legSids.get(key);
  };
  const memberLeg = (callSid, onLine, n, member, status, at, sequence, extra = {}) => ({
    kind: 'status',
    ...incoming(callSid, onLine),
    legSid: legSid(callSid, n),
    role: 'member',
    to: `client:${member}`,
    status,
    at,
    sequence,
    ...extra,
  });
  const ringBoth = (callSid, onLine, at) => [
    callerLeg(callSid, onLine, 'ringing', at),
    callerLeg(callSid, onLine, 'in-progress', at + 1000),
    memberLeg(callSid, onLine, 1, me, 'initiated', at + 1000, 0),
    memberLeg(callSid, onLine, 2, mate, 'initiated', at + 1000, 0),
    memberLeg(callSid, onLine, 1, me, 'ringing', at + 2000, 1),
    memberLeg(callSid, onLine, 2, mate, 'ringing', at + 2000, 1),
  ];
  const KINDS = ['answered', 'missed', 'voicemail', 'outgoing'];
  const historyCall = (callSid, onLine, kind, at) => {
    if (kind === 'outgoing') {
      const facts = { callSid, line: onLine, direction: 'outgoing', placedBy: me, remote: destination };
      const leg = (status, t, sequence, extra = {}) => ({
        kind: 'status',
        ...facts,
        legSid: legSid(callSid, 'callee'),
        role: 'callee',
        to: destination,
        status,
        at: t,
        sequence,
        ...extra,
      });
      return call([
        { kind: 'status', callSid, line: onLine, placedBy: me, legSid: callSid, role: 'caller', to: '', status: 'in-progress', at },
        leg('initiated', at + 1000, 0),
        leg('ringing', at + 2000, 1),
        leg('in-progress', at + 9000, 2),
        leg('completed', at + 99_000, 3, { durationSeconds: 90 }),
        {
          kind: 'status',
          callSid,
          line: onLine,
          placedBy: me,
          legSid: callSid,
          role: 'caller',
          to: '',
          status: 'completed',
          at: at + 99_000,
          durationSeconds: 99,
        },
      ]);
    }
    const events = ringBoth(callSid, onLine, at);
    if (kind === 'answered') {
      events.push(
        memberLeg(callSid, onLine, 1, me, 'in-progress', at + 8000, 2),
        memberLeg(callSid, onLine, 2, mate, 'canceled', at + 8000, 2),
        memberLeg(callSid, onLine, 1, me, 'completed', at + 68_000, 3, { durationSeconds: 60 }),
        callerLeg(callSid, onLine, 'completed', at + 68_000, { durationSeconds: 68 }),
      );
    } else {
      events.push(memberLeg(callSid, onLine, 1, me, 'no-answer', at + 22_000, 2), memberLeg(callSid, onLine, 2, mate, 'no-answer', at + 22_000, 2));
      if (kind === 'voicemail') events.push({ kind: 'voicemail', ...incoming(callSid, onLine), at: at + 40_000 });
      events.push(callerLeg(callSid, onLine, 'completed', at + (kind === 'voicemail' ? 45_000 : 23_000), { durationSeconds: 23 }));
    }
    return call(events);
  };

  const history = Array.from({ length: 30 }, (_, i) => {
    const kind = KINDS[i % KINDS.length];
    const at = now - (i + 1) * 3_600_000;
    return { kind, at, ...historyCall(sid('a', i), line, kind, at) };
  });
  const elsewhere = Array.from({ length: 5 }, (_, i) => historyCall(sid('b', i), otherLine, KINDS[i % KINDS.length], now - i * 60_000 - 30_000));

  // The status callback's call: the first member's leg is about to report `ringing`.
  const ringingSid = sid('c');
  const ringingAt = now - 5000;
  const ringing = call(
    ringBoth(ringingSid, line, ringingAt).filter((e) => !(e.role === 'member' && e.to === `client:${me}` && e.status === 'ringing')),
  );
  const ringingLeg = memberLeg(ringingSid, line, 1, me, 'ringing', ringingAt + 3000, 1);

  // The recording callback's call (the webhook's CallSid): rang, nobody answered, the caller is leaving a message.
  const voicemailSid = 'CA0123456789abcdef0123456789abcdef';
  const voicemailAt = now - 60_000;
  const voicemail = call([
    ...ringBoth(voicemailSid, line, voicemailAt),
    memberLeg(voicemailSid, line, 1, me, 'no-answer', voicemailAt + 22_000, 2),
    memberLeg(voicemailSid, line, 2, mate, 'no-answer', voicemailAt + 22_000, 2),
  ]);

  // The seen mark: the device last looked at its calls a day ago (the 25th newest of the history), so its unseen
  // missed calls reach beyond the first page.
  const seenUntil = new Date(history[24].at).toISOString();
  const live = [ringing, voicemail];
  const pageSize = 20;

  // Places of outgoing calls (the outgoing webhook's CallSid takes them).
  const outgoingSid = sid('d');
  const staleSid = sid('d', 1);
  const mateSid = sid('d', 2);
  const liveUntil = nowSeconds + 4 * 3600;
  const slots = [
    { ...helpers.deviceSlotKey(line, me, 0), callSid: staleSid, [helpers.TTL_ATTRIBUTE]: nowSeconds - 60 },
    { ...helpers.deviceSlotKey(line, mate, 0), callSid: mateSid, [helpers.TTL_ATTRIBUTE]: liveUntil },
    { ...helpers.lineSlotKey(line, 0), callSid: mateSid, [helpers.TTL_ATTRIBUTE]: liveUntil },
  ];

  return {
    items: [
      ...history.map((h) => h.item),
      ...elsewhere.map((c) => c.item),
      ringing.item,
      voicemail.item,
      { ...helpers.seenKey(me), seenUntil },
      ...slots,
    ],
    ringing: { ...ringing, leg: ringingLeg },
    voicemail,
    list: {
      pageSize,
      newest: live.map((c) => c.record.callSid),
      callSids: new Set([...history, ...live].map((c) => c.record.callSid)),
      seenUntil,
      /** missed calls since the mark, whatever the page (lambda/handlers/calls.ts) */
      unseenMissed: history.filter((h) => h.kind === 'missed' && new Date(h.at).toISOString() > seenUntil).length,
    },
    outgoing: {
      callSid: outgoingSid,
      /** the places it holds after its claim: the device's first (expired, taken over) and the line's second */
      holds: [helpers.deviceSlotKey(line, me, 0), helpers.lineSlotKey(line, 1)].map(keyText).sort(),
      /** the teammate's places, untouched */
      mate: { callSid: mateSid, holds: [helpers.deviceSlotKey(line, mate, 0), helpers.lineSlotKey(line, 0)].map(keyText).sort() },
      keyText,
    },
  };
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
async function makeEvent(kind, helpers, sign, callLog) {
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
      // Every invocation the same call (Twilio's retry of one request): it keeps the places it took the first time.
      return webhook('callOutgoing', {
        ...call,
        CallSid: callLog.outgoing.callSid,
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
    case 'callStatus': {
      // The first member's softphone rings: its leg's `ringing` callback, to the URL the ring TwiML gave it.
      const leg = callLog.ringing.leg;
      return webhook(
        'callStatus',
        {
          AccountSid: fixture.credentials.accountSid,
          ApiVersion: '2010-04-01',
          CallSid: leg.legSid,
          ParentCallSid: leg.callSid,
          CallStatus: 'ringing',
          Direction: 'outbound-dial',
          From: fixture.caller,
          Caller: fixture.caller,
          To: leg.to,
          Called: leg.to,
          SequenceNumber: String(leg.sequence),
          Timestamp: rfc2822(leg.at),
          CallbackSource: 'call-progress-events',
        },
        { leg: 'member', line, caller: fixture.caller },
      );
    }
    case 'twilioDebugger':
      // Twilio's Debugger reports an error on the account: a webhook (the recording callback) answered 502. The
      // Payload as Twilio sends it, the request's parameters and the response's body included (never logged).
      return webhook('twilioDebugger', {
        AccountSid: fixture.credentials.accountSid,
        Sid: DEBUGGER_EVENT.sid,
        Level: 'Error',
        Timestamp: '2024-01-01T09:00:00.000Z',
        PayloadType: 'application/json',
        Payload: JSON.stringify(debuggerPayload(inbound)),
      });
    case 'preflight':
      // "Test my setup": the registered device's preflight call to the second TwiML App's Voice URL.
      return webhook('preflight', {
        ...call,
        ApplicationSid: 'AP00000000000000000000000000000001',
        CallStatus: 'ringing',
        From: `client:${fixture.clientName}`,
        Caller: `client:${fixture.clientName}`,
        To: '',
        Called: '',
      });
    case 'voicemails':
      return { identity: fixture.clientName, request: { action: 'list' } };
    case 'calls':
      // The page's recent calls, as it asks for them (client/src/call-log.ts): the first page.
      return { identity: fixture.clientName, request: { action: 'list', limit: callLog.list.pageSize } };
    case 'directory':
      return { identity: fixture.clientName, request: {} };
    case 'pageAuthorizer': {
      const { token } = await helpers.createVoiceAccessToken(fixture.credentials, fixture.clientName, 3600);
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

/**
 * The Debugger event the probe sends: an HTTP retrieval failure (11200) of the recording callback, whose URL
 * carries the line and the caller in its query (logged without it).
 */
const DEBUGGER_EVENT = {
  sid: 'NO0123456789abcdef0123456789abcdef',
  errorCode: '11200',
  path: '/prod/twilio/recording_status',
};

/** The Debugger's Payload (a JSON document), as Twilio sends it for a webhook that answered 502. */
function debuggerPayload(params) {
  const query = new URLSearchParams({ line: fixture.phoneNumber, caller: fixture.caller }).toString();
  const url = `https://${fixture.domainName}${DEBUGGER_EVENT.path}?${query}`;
  return {
    resource_sid: params.CallSid,
    service_sid: null,
    error_code: DEBUGGER_EVENT.errorCode,
    more_info: {
      msg: `An attempt to retrieve content from ${url} returned the HTTP status code 502`,
      Msg: `An attempt to retrieve content from ${url} returned the HTTP status code 502`,
      sourceComponent: '12000',
      ErrorCode: DEBUGGER_EVENT.errorCode,
      httpResponse: '502',
      url,
      LogLevel: 'ERROR',
    },
    webhook: {
      type: 'application/json',
      request: {
        url,
        method: 'POST',
        headers: { 'X-Twilio-Signature': 'bm90LWEtcmVhbC1zaWduYXR1cmU=', 'Content-Type': 'application/x-www-form-urlencoded' },
        parameters: { ...params, RecordingSid: fixture.recordingSid, RecordingStatus: 'completed' },
      },
      response: {
        status_code: 502,
        headers: { 'Content-Type': 'application/json', 'X-Cache': 'Error from cloudfront' },
        body: '{"message": "Internal server error"}',
      },
    },
  };
}

function expect(ok, what) {
  if (!ok) throw new Error(`${opts.kind}: ${what}`);
}
const includes = (result, text) => typeof result === 'string' && result.includes(text);

/** What each function must answer (and ask of the clouds) for its figures to mean the path they name. */
function makeCheck(kind, helpers, callLog, callsTable) {
  const line = fixture.phoneNumber;
  /** The stored item of a call, by its record's CallSid. */
  const callItem = (callSid) => callsTable.items.find((i) => i.record?.callSid === callSid);
  /** Every datum of `metric` (lambda/core/metrics.ts METRIC) in the EMF documents written: its value and its own dimension's. */
  const emitted = (lines, metric) => {
    const { name, dimension } = helpers.METRIC[metric];
    return lines
      .filter((l) => l._aws?.CloudWatchMetrics?.some((m) => m.Namespace === helpers.METRICS_NAMESPACE && m.Metrics?.some((d) => d.Name === name)))
      .map((l) => ({ value: l[name], dimension: dimension ? l[dimension] : undefined }));
  };
  return (result, made, ops, lines) => {
    /** The calls table's requests of the invocation. */
    const callOps = ops.filter((o) => o.startsWith('calls '));
    switch (kind) {
      case 'token':
        expect(result?.success === true && typeof result.capabilityToken === 'string', 'did not issue a token');
        expect(result.capabilityToken.split('.').length === 3, 'the token is not a JWT');
        expect(result.identity === fixture.clientName && result.line === line, 'signed in the wrong device');
        return;
      case 'callIncoming':
        expect(includes(result, '<Dial') && includes(result, 'call_action?stage=ring'), 'did not ring the line with an action');
        for (const name of [fixture.clientName, fixture.teammateClientName]) {
          // each member's leg reports its progress to the call log
          const client = new RegExp(`<Client [^>]*statusCallback="[^"]*/twilio/call_status\\?leg=member[^"]*"[^>]*><Identity>${name}</Identity>`);
          expect(client.test(result), `did not ring ${name} with its leg's status callback`);
        }
        expect(includes(result, '<Parameter'), 'rang without the caller parameter');
        return;
      case 'callOutgoing': {
        expect(
          /<Number [^>]*>\+819059876543<\/Number>/.test(result ?? '') && includes(result, `callerId="${line}"`),
          'did not dial the number from the line',
        );
        expect(includes(result, '/twilio/call_status?leg=callee'), 'dialled without the leg’s status callback');
        // Its places: read, then the device's and the line's claimed by conditional writes that held.
        expect(callOps.join() === 'calls query,calls put?,calls put?', `did not claim its places as expected (${callOps.join(', ')})`);
        const { outgoing } = callLog;
        const held = (callSid) =>
          callsTable.items
            .filter((i) => i.callSid === callSid)
            .map(outgoing.keyText)
            .sort()
            .join();
        expect(held(outgoing.callSid) === outgoing.holds.join(), `holds other places: ${held(outgoing.callSid)}`);
        expect(held(outgoing.mate.callSid) === outgoing.mate.holds.join(), 'took the teammate’s places');
        return;
      }
      case 'callAction':
        expect(includes(result, '<Record') && includes(result, 'recording_status'), 'did not take a voicemail');
        return;
      case 'forwardScreen':
        expect(includes(result, '<Gather') && includes(result, 'stage=answer'), 'did not prompt the forward number to press 1');
        return;
      case 'recordingStatus': {
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
        // The call log shows the call as a voicemail: its record read and written back on its version.
        const { voicemail } = callLog;
        const stored = callItem(voicemail.record.callSid);
        expect(callOps.join() === 'calls get,calls put?', `did not note the voicemail on the call (${callOps.join(', ')})`);
        expect(stored?.record.voicemail === true && stored.version === voicemail.item.version + 1, 'the call’s record does not show the voicemail');
        return;
      }
      case 'callStatus': {
        expect(includes(result, '<Response'), 'did not answer TwiML');
        // The call's record: read, the leg's status merged, written back on the version read.
        const { ringing } = callLog;
        const stored = callItem(ringing.record.callSid);
        const leg = stored?.record.legs[ringing.leg.legSid];
        expect(callOps.join() === 'calls get,calls put?', `did not read and conditionally write the call's record (${callOps.join(', ')})`);
        expect(leg?.status === 'ringing' && leg.ringingAt === ringing.leg.at && leg.role === 'member', 'the member’s leg is not ringing');
        expect(stored.version === ringing.item.version + 1, `the record's version is ${stored.version}, not ${ringing.item.version + 1}`);
        expect(
          Object.keys(stored.record.legs).length === Object.keys(ringing.record.legs).length && stored.record.line === line,
          'the record changed more than the leg',
        );
        return;
      }
      case 'calls': {
        // The line's newest calls from the index, newest first, with what the device has not seen.
        const { list } = callLog;
        expect(result?.success === true && result.line === line, 'did not list the line');
        expect(
          callOps[0] === 'calls query@line-startedAt' &&
            callOps.includes('calls get') &&
            callOps.every((o) => o === 'calls query@line-startedAt' || o === 'calls get'),
          `did not read the index and the seen mark (${callOps.join(', ')})`,
        );
        const listed = result.calls ?? [];
        expect(
          listed.length === list.pageSize && typeof result.cursor === 'string',
          `listed ${listed.length} calls${result.cursor ? '' : ' and no cursor'}`,
        );
        expect(
          listed.every((c, i) => c.line === line && list.callSids.has(c.callSid) && (i === 0 || c.startedAt < listed[i - 1].startedAt)),
          'listed calls of another line, or not newest first',
        );
        expect(
          listed
            .slice(0, list.newest.length)
            .map((c) => c.callSid)
            .join() === list.newest.join(),
          'did not list the calls in progress first',
        );
        expect(
          result.seenUntil === list.seenUntil && result.unseenMissed === list.unseenMissed,
          `counted ${result.unseenMissed} unseen missed calls, not ${list.unseenMissed}`,
        );
        return;
      }
      case 'twilioDebugger': {
        expect(result === helpers.emptyTwiml(), 'did not answer an empty <Response/>');
        expect(made.dynamodb + made.s3 + made.sns + made.twilio === 0, 'asked the clouds for something');
        // Counted one TwilioAlerts (Level error) in its EMF output, and logged the error by its code.
        const alerts = emitted(lines, 'twilioAlert');
        expect(
          alerts.length === 1 && alerts[0].value === 1 && alerts[0].dimension === 'error',
          `did not count one TwilioAlerts of Level error (${JSON.stringify(alerts)})`,
        );
        const logged = lines.filter((l) => l.level === 'ERROR' && l.errorCode === DEBUGGER_EVENT.errorCode);
        expect(logged.length === 1, `did not log the error once (${logged.length} lines)`);
        expect(logged[0].url === `https://${fixture.domainName}${DEBUGGER_EVENT.path}`, 'logged another URL, or the URL with its query');
        expect(!JSON.stringify(logged[0]).includes(fixture.caller), 'logged the payload’s personal data');
        return;
      }
      case 'preflight':
        expect(result === helpers.preflightTwiml(), 'did not answer the preflight TwiML');
        // The identity looked up in the registry (its claim, then its membership), nothing written.
        expect(
          ops.length > 0 && ops.every((o) => o === 'registry get' || o === 'registry query'),
          `did not look the identity up in the registry (${ops.join(', ')})`,
        );
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
