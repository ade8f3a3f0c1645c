/**
 * Test helpers for the lambda tests: an in-process dynalite server (the real DynamoDB protocol on
 * 127.0.0.1), obviously fake Twilio credentials, deps builders and log capture.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { DynamoAttemptStore } from '../../lambda/adapters/dynamo-attempt-store';
import { DynamoDeviceDirectory } from '../../lambda/adapters/dynamo-device-directory';
import { staticCredentials } from '../../lambda/core/credentials';
import { hashDeviceSecret, type ScryptParams } from '../../lambda/core/device-secret';
import { loadConfig, type AppConfig } from '../../lambda/core/settings';
import type { Handler, HandlerDeps } from '../../lambda/handlers/deps';
import type { AttemptStore, DeviceDirectory, DeviceRecord, Log, TwilioCredentials } from '../../lambda/ports';
import { createRegistryTables, listenDynalite } from '../../lib/local/registry-server';

/** Cheap scrypt cost for tests only (production default is N=2^15). */
export const TEST_SCRYPT: ScryptParams = { N: 16, r: 1, p: 1 };

export const FAKE_CREDS: TwilioCredentials = {
  accountSid: 'ACtest00000000000000000000000000',
  apiKeySid: 'SKtest00000000000000000000000000',
  apiKeySecret: 'test-api-key-secret-not-real',
  authToken: 'test-auth-token-not-real',
  twimlAppSid: 'APtest00000000000000000000000000',
};

export const DEVICE_NUMBER = '+815031234567';
export const DEVICE_CLIENT = 'DeviceId_0001';
export const DEVICE_SECRET = 'test-device-secret-0001';

export interface Dynalite {
  endpoint: string;
  client: DynamoDBClient;
  devices: DynamoDeviceDirectory;
  attempts: DynamoAttemptStore;
  devicesTable: string;
  attemptsTable: string;
  close(): Promise<void>;
}

let tableCounter = 0;

/**
 * Starts dynalite on 127.0.0.1:0 and creates fresh registry tables (`createRegistryTables`, the local app's own
 * set-up). The one dynalite fixture of the tests: the ops tests use it too.
 */
export async function startDynalite(): Promise<Dynalite> {
  const server = await listenDynalite();
  const { endpoint } = server;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTESTFAKE', secretAccessKey: 'test-secret-not-real' },
    maxAttempts: 2,
  });
  const n = ++tableCounter;
  const devicesTable = `devices-${n}`;
  const attemptsTable = `attempts-${n}`;
  await createRegistryTables(client, devicesTable, attemptsTable);
  return {
    endpoint,
    client,
    devices: new DynamoDeviceDirectory({ client, table: devicesTable }),
    attempts: new DynamoAttemptStore({ client, table: attemptsTable }),
    devicesTable,
    attemptsTable,
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}

export async function registerDevice(
  devices: DeviceDirectory,
  opts: { phoneNumber?: string; clientName?: string; secret?: string; label?: string } = {},
): Promise<DeviceRecord> {
  const record: DeviceRecord = {
    phoneNumber: opts.phoneNumber ?? DEVICE_NUMBER,
    clientName: opts.clientName ?? DEVICE_CLIENT,
    secretHash: await hashDeviceSecret(opts.secret ?? DEVICE_SECRET, TEST_SCRYPT),
    createdAt: '2024-01-01T00:00:00.000Z',
  };
  if (opts.label !== undefined) record.label = opts.label;
  await devices.put(record);
  return record;
}

/** A log that writes nothing. */
export function silentLog(): Log {
  const nothing = () => undefined;
  return { debug: nothing, info: nothing, warn: nothing, error: nothing };
}

/** A log that keeps its lines, for assertions on what was logged (and what never is). */
export class RecordingLog implements Log {
  readonly lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  debug = (message: string, fields?: Record<string, unknown>) => void this.lines.push({ level: 'DEBUG', message, fields });
  info = (message: string, fields?: Record<string, unknown>) => void this.lines.push({ level: 'INFO', message, fields });
  warn = (message: string, fields?: Record<string, unknown>) => void this.lines.push({ level: 'WARN', message, fields });
  error = (message: string, fields?: Record<string, unknown>) => void this.lines.push({ level: 'ERROR', message, fields });
  /** Every line as JSON text, as a log sink would hold it. */
  get text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}

/** A handler called with the event only, as the tests call it: its invocation context carries `log`. */
export function callable<R>(handler: Handler<R>, log: Log = silentLog()): (event: unknown) => Promise<R> {
  return (event) => handler(event, { log });
}

export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return { ...loadConfig({}), ...overrides };
}

export function makeDeps(stores: { devices: DeviceDirectory; attempts: AttemptStore }, overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    devices: stores.devices,
    attempts: stores.attempts,
    credentials: staticCredentials(FAKE_CREDS),
    config: testConfig(),
    ...overrides,
  };
}

export const DOMAIN = 'abc123.execute-api.ap-northeast-1.amazonaws.com';
export const INCOMING_RESOURCE = '/twilio/retrieve_twiml/call_incoming';
export const OUTGOING_RESOURCE = '/twilio/retrieve_twiml/call_outgoing';

/** A webhook event as the request template renders it, signed like Twilio does (with the fake auth token). */
export function signedEvent(
  resourcePath: string,
  params: Record<string, string>,
  opts: { authToken?: string; url?: string; signature?: string } = {},
): { params: Record<string, string>; signature: string; domainName: string; path: string; resourcePath: string } {
  const path = `/prod${resourcePath}`;
  const url = opts.url ?? `https://${DOMAIN}${path}`;
  const signature = opts.signature ?? getExpectedTwilioSignature(opts.authToken ?? FAKE_CREDS.authToken, url, params);
  return { params, signature, domainName: DOMAIN, path, resourcePath };
}

/** Captures everything written to stdout/stderr (Powertools Logger output) while `fn` runs. */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T | undefined; error: unknown; output: string }> {
  const chunks: string[] = [];
  const spyOut = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  });
  const spyErr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    const result = await fn();
    return { result, error: undefined, output: chunks.join('') };
  } catch (error) {
    return { result: undefined, error, output: chunks.join('') };
  } finally {
    spyOut.mockRestore();
    spyErr.mockRestore();
  }
}

/** Runs `fn`, expects it to throw an HttpError-style message, returns status and parsed body. */
export async function expectThrown(fn: () => Promise<unknown>): Promise<{ status: number; body: string; message: string }> {
  try {
    await fn();
  } catch (err) {
    const message = (err as Error).message;
    const m = /^\[(\d{3})\] ([\s\S]*)$/.exec(message);
    if (!m) throw new Error(`unexpected error message: ${message}`);
    return { status: Number(m[1]), body: m[2], message };
  }
  throw new Error('expected the handler to throw');
}
