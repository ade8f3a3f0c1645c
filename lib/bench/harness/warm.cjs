'use strict';
// Warm latency probe, run in its own `node` process (NODE_PATH = the repo's node_modules, like the Lambda
// runtime's): loads a Lambda bundle built with the AWS SDK external so aws-sdk-client-mock can stub the very
// client classes the bundle uses, warms it up (the Twilio secret is fetched once, then cached), then times
// many sequential invocations. Every crypto.scrypt call is timed too, so the token handler's deliberate
// device-secret hash cost is reported on its own and subtracted per invocation.
//
// argv[2]: JSON { bundle, helpers, kind: RouteId ('token'|'callIncoming'|'callOutgoing'), iterations, warmup, memoizeScrypt, fixture }
// (memoizeScrypt: each distinct hash is computed once, then served from a memo on the next tick.)
// Result: sent over IPC as { ok: true, firstUs, totalUs: number[], netUs: number[], scryptUs: number[] } or { ok: false, error }.
const crypto = require('node:crypto');

const opts = JSON.parse(process.argv[2]);
const { fixture } = opts;

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

async function main() {
  const { mockClient } = require('aws-sdk-client-mock');
  const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
  const { DynamoDBDocumentClient } = require('@aws-sdk/lib-dynamodb');
  const { SecretsManagerClient } = require('@aws-sdk/client-secrets-manager');
  const { marshall } = require('@aws-sdk/util-dynamodb');
  const { getExpectedTwilioSignature } = require('twilio/lib/webhooks/webhooks');

  const helpers = require(opts.helpers);
  const record = {
    phoneNumber: fixture.phoneNumber,
    clientName: fixture.clientName,
    secretHash: await helpers.hashDeviceSecret(fixture.deviceSecret),
    label: 'bench',
    createdAt: '2024-01-01T00:00:00.000Z',
  };

  // A tiny fake of the two tables, answering by the shape of the request (Get/Query/Update/Put/Delete).
  const devicesTable = process.env.DEVICES_TABLE;
  function answer(input, wrap) {
    const devices = input.TableName === devicesTable;
    if (input.KeyConditionExpression || input.IndexName) {
      return devices ? { Items: [wrap(record)], Count: 1, ScannedCount: 1 } : { Items: [], Count: 0, ScannedCount: 0 };
    }
    if (input.UpdateExpression) {
      // The attempts counter (token lockout): one attempt counted, as for a first try.
      const now = Math.floor(Date.now() / 1000);
      return { Attributes: wrap({ ...input.Key, failures: 1, lastFailureAt: now, expiresAt: now + 3600 }) };
    }
    if (input.Key) return devices ? { Item: wrap(record) } : {};
    if (input.TableName === undefined && input.RequestItems) return { Responses: {} };
    return devices && !input.Item ? { Items: [wrap(record)], Count: 1, ScannedCount: 1 } : {};
  }
  const calls = { dynamodb: 0, secrets: 0 };
  mockClient(DynamoDBDocumentClient)
    .onAnyCommand()
    .callsFake((input) => {
      calls.dynamodb += 1;
      return answer(input, (item) => ({ ...item }));
    });
  mockClient(DynamoDBClient)
    .onAnyCommand()
    .callsFake((input) => {
      calls.dynamodb += 1;
      return answer(input, (item) => marshall(item, { removeUndefinedValues: true }));
    });
  mockClient(SecretsManagerClient)
    .onAnyCommand()
    .callsFake(() => {
      calls.secrets += 1;
      return { Name: process.env.TWILIO_SECRET_ID, SecretString: JSON.stringify(fixture.credentials) };
    });

  const { handler } = require(opts.bundle);
  if (typeof handler !== 'function') throw new Error(`${opts.bundle} exports no handler`);

  const event = makeEvent(opts.kind, fixture, getExpectedTwilioSignature);
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

  // The first invocation builds the lazily constructed deps (clients, logger) and fetches the secret.
  const tFirst = process.hrtime.bigint();
  check(await handler(event, context));
  const firstUs = Number(process.hrtime.bigint() - tFirst) / 1000;
  for (let i = 1; i < opts.warmup; i++) check(await handler(event, context));
  const secretsAfterWarmup = calls.secrets;

  const totalUs = [];
  const netUs = [];
  const scryptUs = [];
  for (let i = 0; i < opts.iterations; i++) {
    const scryptBefore = scryptNs;
    const samplesBefore = scryptSamples.length;
    const t0 = process.hrtime.bigint();
    const result = await handler(event, context);
    const dt = process.hrtime.bigint() - t0;
    const inScrypt = scryptNs - scryptBefore;
    totalUs.push(Number(dt) / 1000);
    netUs.push(Number(dt - inScrypt) / 1000);
    for (let j = samplesBefore; j < scryptSamples.length; j++) scryptUs.push(scryptSamples[j]);
    if (i === 0) check(result);
  }
  process.send(
    {
      ok: true,
      firstUs,
      totalUs,
      netUs,
      scryptUs,
      dynamodbCalls: calls.dynamodb,
      secretFetches: calls.secrets,
      secretFetchesAfterWarmup: calls.secrets - secretsAfterWarmup,
    },
    () => process.exit(0),
  );
}

function makeEvent(kind, fixture, sign) {
  if (kind === 'token') return { twilioPhoneNumber: fixture.humanPhoneNumber, deviceSecret: fixture.deviceSecret };
  const resourcePath = kind === 'callIncoming' ? '/twilio/retrieve_twiml/call_incoming' : '/twilio/retrieve_twiml/call_outgoing';
  const path = `/prod${resourcePath}`;
  const base = {
    AccountSid: fixture.credentials.accountSid,
    ApiVersion: '2010-04-01',
    CallSid: 'CA0123456789abcdef0123456789abcdef',
    CallStatus: 'ringing',
    Direction: 'inbound',
  };
  const params =
    kind === 'callIncoming'
      ? { ...base, From: '+14155550100', Caller: '+14155550100', To: fixture.phoneNumber, Called: fixture.phoneNumber }
      : {
          ...base,
          ApplicationSid: fixture.credentials.twimlAppSid,
          From: `client:${fixture.clientName}`,
          Caller: `client:${fixture.clientName}`,
          To: '',
          Called: '',
          callOutgoingPhoneNumber: fixture.destination,
          callerPhoneNumber: fixture.phoneNumber,
        };
  const signature = sign(fixture.credentials.authToken, `https://${fixture.domainName}${path}`, params);
  return { params, signature, domainName: fixture.domainName, path, resourcePath };
}

function makeCheck(kind) {
  return (result) => {
    if (kind === 'token') {
      if (result?.success !== true || typeof result.capabilityToken !== 'string') {
        throw new Error(`token handler did not succeed: ${JSON.stringify(result)}`);
      }
      return;
    }
    const expected = kind === 'callIncoming' ? '<Client' : '<Number';
    if (typeof result !== 'string' || !result.includes(expected)) {
      throw new Error(`${kind} handler did not dial: ${JSON.stringify(result)}`);
    }
  };
}

main().catch(fail);
