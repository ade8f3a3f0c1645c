/**
 * Least privilege, both ways: every AWS call each function's handler really makes, over its success and refusal
 * paths, is granted to its function's role in the synthesized template, and nothing else is. A grant that misses
 * a call would only show in AWS (no stand-in enforces IAM); a grant that nothing calls is needless privilege.
 *
 * The calls are recorded where they leave the adapters the functions run (lambda/adapters/function-deps.ts):
 * - DynamoDB on a real dynalite (the registry, attempts, first-release and calls tables made from
 *   registry-schema.ts); a Query on an index is recorded on the index (`calls/index/line-startedAt`), the resource
 *   IAM checks it against;
 * - S3 and SNS at their SDK clients (S3RecordingStore, SnsNotifier), answered by a stand-in HTTP handler; a
 *   presigned GET is recorded too (it needs s3:GetObject when the browser uses it);
 * - Secrets Manager: each read of the Twilio credentials, which in Lambda is a GetSecretValue.
 * Twilio's recordings API is faked: it is Twilio's, not AWS's.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { documentClient } from '../../lambda/adapters/dynamo';
import { DynamoAttemptStore } from '../../lambda/adapters/dynamo-attempt-store';
import { DynamoCallLog } from '../../lambda/adapters/dynamo-call-log';
import { DynamoLineDirectory } from '../../lambda/adapters/dynamo-line-directory';
import { DynamoVoicemailStore } from '../../lambda/adapters/dynamo-voicemail-store';
import {
  attemptsTableInput,
  CALLS_BY_LINE_INDEX,
  callsTableInput,
  legacyDevicesTableInput,
  PK,
  registryTableInput,
  SLOTS_PREFIX,
} from '../../lambda/adapters/registry-schema';
import { upgradeRegistry } from '../../lambda/adapters/registry-upgrade';
import { S3RecordingStore } from '../../lambda/adapters/s3-recording-store';
import { SnsNotifier } from '../../lambda/adapters/sns-notifier';
import { createVoiceAccessToken } from '../../lambda/core/access-token';
import { staticCredentials } from '../../lambda/core/credentials';
import { hashDeviceSecret } from '../../lambda/core/device-secret';
import { API_PATHS } from '../../lambda/core/paths';
import { type AppConfig, loadConfig } from '../../lambda/core/settings';
import type { Handler, HandlerDeps } from '../../lambda/handlers/deps';
import * as HANDLERS from '../../lambda/handlers';
import { OUTGOING_MESSAGES } from '../../lambda/handlers/outgoing-call';
import { recordingKey } from '../../lambda/handlers/recording-status';
import { PREFLIGHT_REFUSED_MESSAGE } from '../../lambda/handlers/preflight';
import type { CredentialsProvider, Log, Metrics, TwilioRecordings } from '../../lambda/ports';
import { type FunctionId, ROUTES, SUPPORT_FUNCTIONS } from '../../lib/api/routes';
import { RECORDINGS_PREFIX } from '../../lib/constructs/voicemail-storage';
import {
  DEVICE_CLIENT,
  DEVICE_NUMBER,
  DEVICE_NUMBER_TYPED,
  DEVICE_SECRET,
  INCOMING_RESOURCE,
  incomingCallParams,
  OUTGOING_RESOURCE,
  outgoingCallParams,
  signedEvent,
  TEST_CREDENTIALS,
} from '../support/fixtures';
import { defaultTemplate, flatten, resourcesOf, type CfnTemplate } from './synth';

/** Cheap scrypt cost for tests only. */
const TEST_SCRYPT = { N: 16, r: 1, p: 1 };
const FAKE_HASH = 'scrypt$16$1$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA';
const TEAMMATE = 'DeviceId_0002';
const RECORDING_SID = `RE${'0123456789abcdef'.repeat(2)}`;
const CALLER = '+819059876543';
const BUCKET = 'recordings-under-test';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:new-voicemail';
/** Call SIDs as Twilio makes them (the call log keeps only those): `CA` and 32 hex digits. */
const callSid = (n: number) => `CA${n.toString(16).padStart(32, '0')}`;
const DESTINATION = '+819059876543';
const region = 'us-east-1';
const credentials = { accessKeyId: 'AKIDTESTFAKE', secretAccessKey: 'test-secret-not-real' };
const silent: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
/** The metrics the current exercise counted, as `<key>:<dimension value>` (to see that a path ran to its end). */
const counted: string[] = [];
const metrics: Metrics = {
  count: (metric, value) => void counted.push(`${metric}:${value ?? ''}`),
  milliseconds: () => undefined,
};

/** The resources a grant can name, in the words both sides use (an index: `<table>/index/<name>`). */
type Target = 'registry' | 'attempts' | 'legacyDevices' | 'calls' | 'recordings' | 'voicemailTopic' | 'twilioSecret';

let template: CfnTemplate;
let server: Server;
let dynamo: DynamoDBClient;
/** The same dynalite, unrecorded: for checking what an exercise did without counting the checks. */
let unrecorded: DynamoDBClient;
let tableCounter = 0;
let tables: Record<'registry' | 'attempts' | 'legacyDevices' | 'calls', string>;
/** The calls of the current exercise, as `<iam action> on <target>`. */
const calls: string[] = [];

type Middleware = (
  next: (args: { input: object }) => Promise<unknown>,
  context: { commandName?: string },
) => (args: { input: object }) => Promise<unknown>;
/** What the recorder needs of an SDK client. */
interface Recordable {
  middlewareStack: { add(middleware: Middleware, options: { step: 'initialize'; name: string }): void };
}

/** Records each low-level operation a client sends (or presigns) as the IAM action it needs and what it touches. */
function recordCalls(client: Recordable, service: 'dynamodb' | 's3' | 'sns'): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; IndexName?: string; Bucket?: string; Key?: string; TopicArn?: string };
      const action = `${service}:${String(context.commandName).replace(/Command$/, '')}`;
      const table = () => Object.entries(tables).find(([, name]) => name === input.TableName)?.[0] ?? `unknown table ${input.TableName}`;
      const target =
        service === 'dynamodb'
          ? `${table()}${input.IndexName === undefined ? '' : `/index/${input.IndexName}`}`
          : service === 's3'
            ? input.Bucket === BUCKET && input.Key?.startsWith(RECORDINGS_PREFIX)
              ? `recordings/${RECORDINGS_PREFIX}*`
              : `unknown object ${input.Bucket}/${input.Key}`
            : input.TopicArn === TOPIC_ARN
              ? 'voicemailTopic'
              : `unknown topic ${input.TopicArn}`;
      calls.push(`${action} on ${target}`);
      return next(args);
    },
    { step: 'initialize', name: 'recordIamActions' },
  );
}

/** S3 and SNS answer 200: an empty body, or SNS's Publish result. */
const standIn = (body: string) => ({
  handle: async () => ({
    response: { statusCode: 200, headers: { 'content-type': 'text/xml' }, body: Readable.from([Buffer.from(body)]) },
  }),
});
const s3 = new S3Client({ region, credentials, requestHandler: standIn('') });
const sns = new SNSClient({
  region,
  credentials,
  requestHandler: standIn('<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>'),
});
recordCalls(s3, 's3');
recordCalls(sns, 'sns');

/** Every read of the Twilio credentials is a GetSecretValue in Lambda (secrets-manager-credentials.ts). */
function recordedCredentials(): CredentialsProvider {
  const read = staticCredentials(TEST_CREDENTIALS);
  const provider: CredentialsProvider = () => {
    calls.push('secretsmanager:GetSecretValue on twilioSecret');
    return read();
  };
  provider.refresh = () => provider();
  return provider;
}

const fakeTwilioRecordings: TwilioRecordings = {
  download: async () => ({ audio: new Uint8Array([1, 2, 3]), contentType: 'audio/mpeg' }),
  delete: async () => undefined,
};

/** The call log on the current tables: recorded (what the handlers get) or not (seeds and checks). */
const callLog = (client: DynamoDBClient = dynamo) =>
  new DynamoCallLog({ client, table: tables.calls, retentionDays: loadConfig({}).callLogRetentionDays });

/**
 * The deps each function's builder makes in Lambda, on the recorded clients. Every handler gets all of them
 * (the call log too): one that used a dependency its function is not granted would show as an ungranted call.
 */
function deps(config: Partial<AppConfig> = {}): HandlerDeps {
  const lines = new DynamoLineDirectory({ client: dynamo, table: tables.registry });
  return {
    lines,
    attempts: new DynamoAttemptStore({ client: dynamo, table: tables.attempts }),
    credentials: recordedCredentials(),
    config: { ...loadConfig({}), softphoneUrl: 'https://phone.example.com', ...config },
    calls: callLog(),
    voicemails: new DynamoVoicemailStore({ client: dynamo, table: tables.registry }),
    recordings: new S3RecordingStore(BUCKET, s3),
    twilioRecordings: fakeTwilioRecordings,
    notifier: new SnsNotifier(TOPIC_ARN, 'https://phone.example.com', sns),
    upgradeRegistry: () => upgradeRegistry({ client: dynamo, legacyTable: tables.legacyDevices, lines }),
  };
}

async function createTable(input: CreateTableCommandInput): Promise<void> {
  await dynamo.send(new CreateTableCommand(input));
}

beforeAll(async () => {
  template = defaultTemplate();
  const dynalite = require('dynalite') as (o: object) => Server;
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  dynamo = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region, credentials, maxAttempts: 2 });
  recordCalls(dynamo, 'dynamodb');
  unrecorded = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region, credentials, maxAttempts: 2 });
});

afterAll(async () => {
  dynamo?.destroy();
  unrecorded?.destroy();
  s3.destroy();
  sns.destroy();
  (server as Server & { closeAllConnections?: () => void })?.closeAllConnections?.();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

/** Fresh tables for every function, with the walkthrough's device on its line. */
beforeEach(async () => {
  const n = ++tableCounter;
  tables = { registry: `lines-${n}`, attempts: `attempts-${n}`, legacyDevices: `devices-${n}`, calls: `calls-${n}` };
  await createTable(registryTableInput(tables.registry));
  await createTable(attemptsTableInput(tables.attempts));
  await createTable(legacyDevicesTableInput(tables.legacyDevices));
  await createTable(callsTableInput(tables.calls));
  await new DynamoLineDirectory({ client: dynamo, table: tables.registry }).put({
    phoneNumber: DEVICE_NUMBER,
    clientName: DEVICE_CLIENT,
    secretHash: await hashDeviceSecret(DEVICE_SECRET, TEST_SCRYPT),
    createdAt: '2024-01-01T00:00:00.000Z',
  });
});

const invoke = <R>(handler: Handler<R>, event: unknown): Promise<R | undefined> => handler(event, { log: silent, metrics }).catch(() => undefined);
const page = (identity: string, request: Record<string, unknown>) => ({ identity, request });

/** Puts more devices on a line (the registry's own writes: not the exercised handler's). */
async function addMembers(number: string, names: string[]): Promise<void> {
  const lines = new DynamoLineDirectory({ client: dynamo, table: tables.registry });
  for (const clientName of names) await lines.put({ phoneNumber: number, clientName, secretHash: FAKE_HASH, createdAt: '2024-01-02T00:00:00.000Z' });
}

/** The places (slot items) of a line's outgoing calls in progress, read without recording. */
async function heldSlots(line: string): Promise<Record<string, unknown>[]> {
  const out = await documentClient(unrecorded).send(
    new QueryCommand({
      TableName: tables.calls,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PK },
      ExpressionAttributeValues: { ':pk': `${SLOTS_PREFIX}${line}` },
    }),
  );
  return out.Items ?? [];
}

/** Claims a device's and its line's places for a call, as the outgoing handler does (unrecorded: a seed). */
const claimFor = (clientName: string, sid: string) =>
  callLog(unrecorded).claimSlots({
    line: DEVICE_NUMBER,
    clientName,
    callSid: sid,
    perDevice: 2,
    perLine: 10,
    nowSeconds: Math.floor(Date.now() / 1000),
    holdSeconds: 3600,
  });

/** A call to the line's number, as its status callbacks would have logged it (unrecorded: a seed). */
async function seedIncomingCall(sid: number, at: number, answeredBy?: string): Promise<void> {
  const log = callLog(unrecorded);
  const base = { callSid: callSid(sid), at, line: DEVICE_NUMBER, direction: 'incoming' as const, remote: CALLER };
  if (answeredBy) {
    const member = { ...base, kind: 'status' as const, legSid: callSid(sid + 1000), role: 'member' as const, to: `client:${answeredBy}` };
    await log.apply({ ...member, status: 'in-progress', at: at + 5000 });
  }
  await log.apply({ ...base, kind: 'status', legSid: callSid(sid), role: 'caller', to: DEVICE_NUMBER, status: 'completed', at: at + 60_000 });
}

/** Runs a function's handler over its success and refusal paths; returns the AWS calls it made. */
async function exercise(id: FunctionId): Promise<Set<string>> {
  // The outgoing calls meet the line's limit (2 at once) with the device's (2 at once) still free.
  const d = deps(id === 'callOutgoing' ? { maxCallsPerLine: 2 } : {});
  /** Checks of what the exercise did, run after the recording stops. */
  const afterwards: (() => Promise<void>)[] = [];
  // Seeds per function, made before the recording starts.
  if (id === 'callOutgoing' || id === 'directory') await addMembers(DEVICE_NUMBER, [TEAMMATE]);
  if (id === 'callStatus') expect(await claimFor(DEVICE_CLIENT, callSid(1))).toBe('ok');
  if (id === 'calls') {
    const hourAgo = Date.now() - 3_600_000;
    await seedIncomingCall(1, hourAgo); // missed
    await seedIncomingCall(2, hourAgo + 600_000, DEVICE_CLIENT); // answered
    await seedIncomingCall(3, hourAgo + 1_200_000); // missed
  }
  if (id === 'voicemails') {
    await d.voicemails!.add({
      line: DEVICE_NUMBER,
      id: RECORDING_SID,
      from: CALLER,
      callSid: 'CA1',
      durationSeconds: 12,
      recordingKey: recordingKey(DEVICE_NUMBER, RECORDING_SID),
      heard: false,
      receivedAt: new Date().toISOString(),
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    });
  }
  if (id === 'registryUpgrade') {
    // A full line, so one copy is refused (the path that counts members and releases the name claim).
    const full = '+815011110000';
    await addMembers(
      full,
      Array.from({ length: 10 }, (_, i) => `Member_${i}`),
    );
    const legacy = documentClient(dynamo);
    // Filled long ago: a refused add then counts the members itself (the count-repair path, a Query).
    await legacy.send(
      new UpdateCommand({
        TableName: tables.registry,
        Key: { pk: `LINE#${full}`, sk: 'LINE' },
        UpdateExpression: 'SET reservedAt = :long_ago',
        ExpressionAttributeValues: { ':long_ago': '2023-01-01T00:00:00.000Z' },
      }),
    );
    const device = (phoneNumber: string, clientName: string) =>
      legacy.send(
        new PutCommand({
          TableName: tables.legacyDevices,
          Item: { phoneNumber, clientName, secretHash: FAKE_HASH, createdAt: '2023-01-01T00:00:00.000Z' },
        }),
      );
    await device(DEVICE_NUMBER, DEVICE_CLIENT); // already copied
    await device('+815022220000', 'Front_Desk'); // copied now
    await device(full, 'One_Too_Many'); // refused: the line is full
    await legacy.send(new PutCommand({ TableName: tables.legacyDevices, Item: { phoneNumber: 'client#Front_Desk', line: '+815022220000' } }));
  }
  calls.length = 0;
  counted.length = 0;

  switch (id) {
    case 'token': {
      const handler = HANDLERS.token(d, { dummyScryptParams: TEST_SCRYPT });
      expect(await invoke(handler, { twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: DEVICE_SECRET })).toMatchObject({ success: true });
      await invoke(handler, { twilioPhoneNumber: DEVICE_NUMBER_TYPED, deviceSecret: 'wrong-secret' });
      await invoke(handler, { twilioPhoneNumber: '+81-50-9999-0000', deviceSecret: 'wrong-secret' });
      break;
    }
    case 'callIncoming': {
      const handler = HANDLERS.callIncoming(d);
      expect(await invoke(handler, signedEvent(INCOMING_RESOURCE, incomingCallParams()))).toContain(`<Identity>${DEVICE_CLIENT}</Identity>`);
      await invoke(handler, signedEvent(INCOMING_RESOURCE, incomingCallParams({ To: '+815099990000' })));
      break;
    }
    case 'callOutgoing': {
      const handler = HANDLERS.callOutgoing(d);
      const call = (sid: number, overrides: Record<string, string> = {}) =>
        invoke(handler, signedEvent(OUTGOING_RESOURCE, outgoingCallParams({ CallSid: callSid(sid), ...overrides })));
      // dialled: a device place and a line place claimed (Query, PutItem), the leg reporting to the call log
      expect(await call(1)).toMatch(new RegExp(`<Number [^>]*statusCallback="[^"]*/twilio/call_status\\?[^"]*"[^>]*>\\${DESTINATION}</Number>`));
      expect(await call(2, { callOutgoingClient: TEAMMATE })).toContain(`<Identity>${TEAMMATE}</Identity>`);
      // the line is full (2 calls): the teammate's device place is taken, then given back (DeleteItem), and the
      // refusal is logged on the call's record (GetItem, PutItem)
      expect(await call(3, { From: `client:${TEAMMATE}`, Caller: `client:${TEAMMATE}` })).toContain(OUTGOING_MESSAGES.lineBusy);
      // refused by the policy, logged without a place
      expect(await call(4, { callOutgoingPhoneNumber: '' })).toContain(OUTGOING_MESSAGES.noDestination);
      await call(5, { From: 'client:Nobody' });
      afterwards.push(async () => {
        expect((await heldSlots(DEVICE_NUMBER)).map((slot) => slot.callSid).sort()).toEqual([callSid(1), callSid(1), callSid(2), callSid(2)]);
        expect(await callLog(unrecorded).get(callSid(3))).toMatchObject({ refused: 'limit', placedBy: TEAMMATE, line: DEVICE_NUMBER });
        expect(await callLog(unrecorded).get(callSid(4))).toMatchObject({ refused: 'no-destination', placedBy: DEVICE_CLIENT });
      });
      break;
    }
    case 'callStatus': {
      const handler = HANDLERS.callStatus(d);
      const status = (params: Record<string, string>, query?: Record<string, string>) =>
        invoke(handler, signedEvent(API_PATHS.callStatus, { AccountSid: TEST_CREDENTIALS.accountSid, ...params }, query ? { query } : {}));
      // the softphone's own call (the TwiML App's callback): its device (GetItem), the record (GetItem, PutItem)
      await status({ CallSid: callSid(1), CallStatus: 'in-progress', From: `client:${DEVICE_CLIENT}`, To: '' });
      // its dialled leg ends: the record, then the places the call held are freed (Query, DeleteItem)
      const callee = { leg: 'callee', line: DEVICE_NUMBER, client: DEVICE_CLIENT };
      expect(
        await status({ CallSid: callSid(2), ParentCallSid: callSid(1), CallStatus: 'completed', CallDuration: '42', To: DESTINATION }, callee),
      ).toContain('<Response');
      // a call to the line's number (the number's callback): the line (Query)
      await status({ CallSid: callSid(3), CallStatus: 'no-answer', From: CALLER, To: DEVICE_NUMBER });
      // a member's leg of that call
      await status(
        { CallSid: callSid(4), ParentCallSid: callSid(3), CallStatus: 'no-answer', To: `client:${DEVICE_CLIENT}` },
        {
          leg: 'member',
          line: DEVICE_NUMBER,
          caller: CALLER,
        },
      );
      // not ours: another account's call, a number without a line, an unsigned request
      await status({
        AccountSid: 'AC00000000000000000000000000000000',
        CallSid: callSid(5),
        CallStatus: 'completed',
        From: CALLER,
        To: DEVICE_NUMBER,
      });
      await status({ CallSid: callSid(6), CallStatus: 'completed', From: CALLER, To: '+815099990000' });
      await invoke(handler, { ...signedEvent(API_PATHS.callStatus, { CallSid: callSid(7) }), signature: 'forged' });
      afterwards.push(async () => {
        expect(await heldSlots(DEVICE_NUMBER)).toEqual([]);
        expect(await callLog(unrecorded).get(callSid(1))).toMatchObject({ placedBy: DEVICE_CLIENT, legs: { [callSid(2)]: { status: 'completed' } } });
        expect(await callLog(unrecorded).get(callSid(3))).toMatchObject({ line: DEVICE_NUMBER, direction: 'incoming', remote: CALLER });
        expect(await callLog(unrecorded).get(callSid(5))).toBeUndefined();
        expect(await callLog(unrecorded).get(callSid(6))).toBeUndefined();
      });
      break;
    }
    case 'twilioDebugger': {
      const handler = HANDLERS.twilioDebugger(d);
      const params = {
        AccountSid: TEST_CREDENTIALS.accountSid,
        Sid: `NO${'0123456789abcdef'.repeat(2)}`,
        Level: 'Error',
        Timestamp: '2026-01-01T00:00:00Z',
        PayloadType: 'application/json',
        Payload: JSON.stringify({
          error_code: '11200',
          resource_sid: callSid(9),
          webhook: {
            request: { url: 'https://example.com/prod/twilio/retrieve_twiml/call_incoming', method: 'POST' },
            response: { status_code: '502' },
          },
        }),
      };
      // read and counted: the signature (the secret), nothing in DynamoDB
      expect(await invoke(handler, signedEvent(API_PATHS.twilioDebugger, params))).toContain('<Response');
      expect(counted).toContain('twilioAlert:error');
      // refused: unsigned
      await invoke(handler, { ...signedEvent(API_PATHS.twilioDebugger, params), signature: 'forged' });
      break;
    }
    case 'preflight': {
      const handler = HANDLERS.preflight(d);
      const params = (from: string) => ({ AccountSid: TEST_CREDENTIALS.accountSid, CallSid: callSid(8), From: from, To: '' });
      // the calling device (its name claim and member item: GetItem), after the signature
      const answered = await invoke(handler, signedEvent(API_PATHS.preflight, params(`client:${DEVICE_CLIENT}`)));
      expect(answered).toContain('<Response');
      expect(answered).not.toContain(PREFLIGHT_REFUSED_MESSAGE);
      expect(await invoke(handler, signedEvent(API_PATHS.preflight, params('client:Nobody')))).toContain(PREFLIGHT_REFUSED_MESSAGE);
      await invoke(handler, { ...signedEvent(API_PATHS.preflight, params(`client:${DEVICE_CLIENT}`)), signature: 'forged' });
      break;
    }
    case 'callAction': {
      const handler = HANDLERS.callAction(d);
      const params = incomingCallParams({ DialCallStatus: 'no-answer' });
      expect(await invoke(handler, signedEvent(API_PATHS.callAction, params, { query: { stage: 'forward' } }))).toContain('<Response>');
      await invoke(handler, signedEvent(API_PATHS.callAction, params));
      // the caller left a message: noted in the call log before the call's end is reported
      const recorded = { ...incomingCallParams({ CallSid: callSid(4) }), RecordingSid: RECORDING_SID, RecordingDuration: '5' };
      await invoke(handler, signedEvent(API_PATHS.callAction, recorded, { query: { stage: 'recorded' } }));
      expect((await d.calls!.get(callSid(4)))?.voicemail).toBe(true);
      break;
    }
    case 'forwardScreen': {
      const handler = HANDLERS.forwardScreen(d);
      const query = { stage: 'prompt', line: DEVICE_NUMBER, caller: CALLER };
      expect(await invoke(handler, signedEvent(API_PATHS.forwardScreen, { CallSid: 'CA2', Digits: '' }, { query }))).toContain('<Gather');
      await invoke(handler, signedEvent(API_PATHS.forwardScreen, { CallSid: 'CA2', Digits: '1' }, { query: { ...query, stage: 'answer' } }));
      break;
    }
    case 'recordingStatus': {
      const handler = HANDLERS.recordingStatus(d);
      const params = {
        AccountSid: TEST_CREDENTIALS.accountSid,
        CallSid: callSid(3),
        RecordingSid: RECORDING_SID,
        RecordingStatus: 'completed',
        RecordingDuration: '12',
      };
      const event = signedEvent(API_PATHS.recordingStatus, params, { query: { line: DEVICE_NUMBER, caller: CALLER } });
      await invoke(handler, event);
      expect(await d.voicemails!.get(DEVICE_NUMBER, RECORDING_SID)).toBeDefined(); // kept: the whole path ran
      await invoke(handler, event); // Twilio repeats a callback
      // the call log shows the call as a voicemail (its record: GetItem, PutItem)
      afterwards.push(async () => expect(await callLog(unrecorded).get(callSid(3))).toMatchObject({ voicemail: true, line: DEVICE_NUMBER }));
      break;
    }
    case 'voicemails': {
      const handler = HANDLERS.voicemails(d);
      expect(await invoke(handler, page(DEVICE_CLIENT, { action: 'list' }))).toMatchObject({ unheard: 1 });
      expect(await invoke(handler, page(DEVICE_CLIENT, { action: 'play', id: RECORDING_SID }))).toMatchObject({
        url: expect.stringContaining(BUCKET),
      });
      await invoke(handler, page(DEVICE_CLIENT, { action: 'markHeard', id: RECORDING_SID }));
      expect(await invoke(handler, page(DEVICE_CLIENT, { action: 'delete', id: RECORDING_SID }))).toEqual({ success: true });
      await invoke(handler, page('Nobody', { action: 'list' }));
      break;
    }
    case 'directory': {
      const handler = HANDLERS.directory(d);
      expect(await invoke(handler, page(DEVICE_CLIENT, {}))).toMatchObject({ members: expect.arrayContaining([{ clientName: TEAMMATE }]) });
      await invoke(handler, page('Nobody', {}));
      break;
    }
    case 'calls': {
      const handler = HANDLERS.calls(d);
      // the line's calls on the index, newest first (Query there), the device's seen mark (GetItem)
      const first = await invoke(handler, page(DEVICE_CLIENT, { action: 'list', limit: 2 }));
      // both missed calls are unseen, whatever the page (calls.ts counts since the device's mark, not per page)
      expect(first).toMatchObject({ success: true, line: DEVICE_NUMBER, unseenMissed: 2, cursor: expect.any(String) });
      const { calls: newest, cursor } = first as { calls: { callSid: string }[]; cursor: string };
      expect(newest.map((c) => c.callSid)).toEqual([callSid(3), callSid(2)]);
      // the next page, after the cursor
      expect(await invoke(handler, page(DEVICE_CLIENT, { action: 'list', cursor }))).toMatchObject({
        calls: [expect.objectContaining({ callSid: callSid(1), outcome: 'missed' })],
        unseenMissed: 2,
      });
      // seen up to now (PutItem): nothing unseen is left
      const until = new Date().toISOString();
      expect(await invoke(handler, page(DEVICE_CLIENT, { action: 'markSeen', until }))).toEqual({ success: true, seenUntil: until });
      expect(await invoke(handler, page(DEVICE_CLIENT, { action: 'list' }))).toMatchObject({ unseenMissed: 0, seenUntil: until });
      // refused: a cursor not ours, a device no longer registered
      await invoke(handler, page(DEVICE_CLIENT, { action: 'list', cursor: 'bm90LWEtY3Vyc29y' }));
      await invoke(handler, page('Nobody', { action: 'list' }));
      break;
    }
    case 'pageAuthorizer': {
      const handler = HANDLERS.pageAuthorizer(d);
      const { token } = createVoiceAccessToken(TEST_CREDENTIALS, DEVICE_CLIENT, 600);
      const methodArn = 'arn:aws:execute-api:us-east-1:000000000000:abc123/prod/POST/softphone/voicemails';
      expect(await invoke(handler, { type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn })).toMatchObject({
        principalId: DEVICE_CLIENT,
      });
      await invoke(handler, { type: 'TOKEN', authorizationToken: 'Bearer a.b.c', methodArn });
      break;
    }
    case 'registryUpgrade': {
      const handler = HANDLERS.registryUpgrade(d, { respond: async () => undefined });
      const request = {
        ResponseURL: 'https://cloudformation.example/response',
        StackId: 'stack',
        RequestId: 'r1',
        LogicalResourceId: 'RegistryUpgrade',
      };
      expect(await invoke(handler, { ...request, RequestType: 'Create' })).toMatchObject({
        Status: 'SUCCESS',
        Data: { copied: '1', alreadyThere: '1', skipped: '1' },
      });
      break;
    }
  }
  const used = new Set(calls);
  for (const check of afterwards) await check();
  return used;
}

/** Every grant of a function's role in the synthesized template but its own log group's, in the same words. */
function grantedAccess(functionName: string): Set<string> {
  const targets: Record<string, Target> = {};
  for (const [id, t] of resourcesOf(template, 'AWS::DynamoDB::Table')) {
    const keys = (t.Properties!.KeySchema as { AttributeName: string }[]).map((k) => k.AttributeName);
    const indexes = ((t.Properties!.GlobalSecondaryIndexes ?? []) as { IndexName: string }[]).map((i) => i.IndexName);
    targets[id] = keys.includes('sk')
      ? indexes.includes(CALLS_BY_LINE_INDEX)
        ? 'calls'
        : 'registry'
      : indexes.length > 0
        ? 'legacyDevices'
        : 'attempts';
  }
  for (const [id, b] of resourcesOf(template, 'AWS::S3::Bucket')) {
    if (JSON.stringify(b.Properties!.LifecycleConfiguration ?? {}).includes('ExpireRecordings')) targets[id] = 'recordings';
  }
  for (const [id, t] of resourcesOf(template, 'AWS::SNS::Topic'))
    if (flatten(t.Properties!.KmsMasterKeyId).endsWith(':alias/aws/sns')) targets[id] = 'voicemailTopic';
  for (const [id] of resourcesOf(template, 'AWS::SecretsManager::Secret')) targets[id] = 'twilioSecret';

  const [, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(([, r]) =>
    String(r.Properties?.Description ?? '').startsWith(`${functionName}:`),
  )!;
  const roleId = fn.Properties!.Role['Fn::GetAtt'][0] as string;
  const logGroup = `<${fn.Properties!.LoggingConfig.LogGroup.Ref}.Arn>`;
  const [, policy] = resourcesOf(template, 'AWS::IAM::Policy').find(([, p]) => p.Properties!.Roles.some((r: { Ref: string }) => r.Ref === roleId))!;
  const granted = new Set<string>();
  for (const st of policy.Properties!.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]) {
    for (const resource of [st.Resource].flat().map(flatten)) {
      // the log group, and the X-Ray writes of active tracing (Lambda's, not the handler's; see operations.test.ts)
      if (resource === logGroup) continue;
      if (resource === '*' && [st.Action].flat().every((a) => a === 'xray:PutTraceSegments' || a === 'xray:PutTelemetryRecords')) continue;
      const named = resource.replace(/^<(\w+)(?:\.Arn)?>/, (whole, id: string) => targets[id] ?? whole);
      for (const action of [st.Action].flat()) granted.add(`${action} on ${named}`);
    }
  }
  return granted;
}

const FUNCTIONS = [...ROUTES.map((r) => [r.functionName, r.id] as const), ...SUPPORT_FUNCTIONS.map((f) => [f.functionName, f.id] as const)];

test('every function of the stack is exercised here', () => {
  const described = resourcesOf(defaultTemplate(), 'AWS::Lambda::Function')
    .filter(([id]) => id.startsWith('Functions'))
    .map(([, r]) => String(r.Properties!.Description).split(':')[0]);
  expect(described.sort()).toEqual(FUNCTIONS.map(([name]) => name).sort());
});

test.each(FUNCTIONS)('%s: granted exactly the AWS calls its handler makes', async (functionName, id) => {
  const used = await exercise(id);
  expect(used.size).toBeGreaterThan(0);
  expect([...grantedAccess(functionName)].sort()).toEqual([...used].sort());
});
