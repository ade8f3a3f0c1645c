/**
 * Helpers of the lambda tests: a cheap scrypt cost, the walkthrough's device on its line, handler deps, log
 * capture and the `[status] body` error convention. Shared data (credentials, the device, webhook parameters,
 * the signed event) comes from `test/support/fixtures.ts`; the registry from `test/support/dynalite.ts`.
 */
import { RecordingMetrics } from '../../lambda/adapters/recording-metrics';
import { staticCredentials } from '../../lambda/core/credentials';
import { hashDeviceSecret, type ScryptParams } from '../../lambda/core/device-secret';
import { loadConfig, type AppConfig } from '../../lambda/core/settings';
import type { Handler, HandlerDeps } from '../../lambda/handlers/deps';
import type { AttemptStore, CallLog, DeviceRecord, LineDirectory, Log, Metrics } from '../../lambda/ports';
import { DEVICE_CLIENT, DEVICE_NUMBER, DEVICE_SECRET, TEST_CREDENTIALS } from '../support/fixtures';

/** Cheap scrypt cost for tests only (production default is N=2^15). */
export const TEST_SCRYPT: ScryptParams = { N: 16, r: 1, p: 1 };

/**
 * Adds a device to its number's line (default: the walkthrough's, with DEVICE_SECRET hashed at the test cost).
 * Devices ring in the order they were added: give `createdAt` to add more than one to a line in a known order.
 */
export async function registerDevice(
  lines: LineDirectory,
  opts: { phoneNumber?: string; clientName?: string; secret?: string; label?: string; createdAt?: string } = {},
): Promise<DeviceRecord> {
  const record: DeviceRecord = {
    phoneNumber: opts.phoneNumber ?? DEVICE_NUMBER,
    clientName: opts.clientName ?? DEVICE_CLIENT,
    secretHash: await hashDeviceSecret(opts.secret ?? DEVICE_SECRET, TEST_SCRYPT),
    createdAt: opts.createdAt ?? '2024-01-01T00:00:00.000Z',
  };
  if (opts.label !== undefined) record.label = opts.label;
  await lines.put(record);
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

/**
 * A handler called with the event only, as the tests call it: its invocation context carries `log` and
 * `metrics` (by default a fresh recording sink each call of `callable`; pass one to read what was counted).
 */
export function callable<R>(handler: Handler<R>, log: Log = silentLog(), metrics: Metrics = new RecordingMetrics()): (event: unknown) => Promise<R> {
  return (event) => handler(event, { log, metrics });
}

export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return { ...loadConfig({}), ...overrides };
}

/** Handler deps over a registry's stores, with the test credentials and the default config. */
export function makeDeps(
  stores: { lines: LineDirectory; attempts: AttemptStore; calls?: CallLog },
  overrides: Partial<HandlerDeps> = {},
): HandlerDeps {
  return {
    lines: stores.lines,
    attempts: stores.attempts,
    ...(stores.calls ? { calls: stores.calls } : {}),
    credentials: staticCredentials(TEST_CREDENTIALS),
    config: testConfig(),
    ...overrides,
  };
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

/** One metric datum of an EMF document, as CloudWatch reads it. */
export interface EmfMetric {
  namespace: string;
  name: string;
  unit: string;
  /** the dimension set: each dimension's name and value */
  dimensions: Record<string, string>;
  /** the value(s) written */
  value: number | number[];
}

/**
 * The metrics of an EMF document (CloudWatch's Embedded Metric Format, `_aws.CloudWatchMetrics`): one per metric
 * and dimension set of each directive, the values read from the document's root, as CloudWatch Logs extracts them.
 */
export function emfMetrics(document: unknown): EmfMetric[] {
  const doc = (typeof document === 'string' ? JSON.parse(document) : document) as Record<string, unknown>;
  const aws = doc._aws as {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  if (typeof aws?.Timestamp !== 'number' || !Array.isArray(aws.CloudWatchMetrics)) throw new Error(`not an EMF document: ${JSON.stringify(doc)}`);
  return aws.CloudWatchMetrics.flatMap((directive) =>
    directive.Dimensions.flatMap((set) =>
      directive.Metrics.map((m) => ({
        namespace: directive.Namespace,
        name: m.Name,
        unit: m.Unit,
        dimensions: Object.fromEntries(set.map((d) => [d, String(doc[d])])),
        value: doc[m.Name] as number | number[],
      })),
    ),
  );
}

/** The EMF documents among lines of output (JSON lines with `_aws`), each parsed. */
export function emfDocuments(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((l) => l.trim().startsWith('{') && l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
