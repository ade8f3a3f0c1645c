/**
 * The metrics as CloudWatch gets them: the Powertools Metrics adapter (lambda/adapters/powertools-metrics.ts)
 * writes Embedded Metric Format documents on stdout; these tests capture that output and read it as CloudWatch
 * Logs does (`_aws.CloudWatchMetrics`), so every metric's name, unit, namespace and dimension set is asserted on
 * what is really written, not on what was asked. Also the Lambda runtime's side: every invocation records
 * HandlerLatency by Function and its metrics are written whether the handler answered or threw.
 */
import { PowertoolsMetricsAdapter } from '../../lambda/adapters/powertools-metrics';
import { lambdaHandler } from '../../lambda/adapters/lambda-runtime';
import { RecordingMetrics } from '../../lambda/adapters/recording-metrics';
import { staticCredentials } from '../../lambda/core/credentials';
import { CALL_REFUSAL_REASONS, METRIC, METRICS_NAMESPACE, METRICS_SERVICE, metricDatum, TOLL_FRAUD_REASONS } from '../../lambda/core/metrics';
import type { HandlerDeps, HandlerFactory } from '../../lambda/handlers/deps';
import { HANDLER_TABLE } from '../../lambda/handlers/table';
import type { AttemptStore, LineDirectory, MetricKey } from '../../lambda/ports';
import { INCOMING_RESOURCE, incomingCallParams, signedEvent, TEST_CREDENTIALS } from '../support/fixtures';
import { emfDocuments, type EmfMetric, emfMetrics, testConfig } from './helpers';

const saved = { ...process.env };
beforeAll(() => {
  // Powertools reads these when an instance is made: no dev mode (it would print through the global console
  // and switch metrics off), metrics on, the logger silent (its lines go to stdout too).
  delete process.env.POWERTOOLS_DEV;
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  delete process.env.POWERTOOLS_METRICS_NAMESPACE;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});
afterAll(() => {
  process.env = saved;
});

/** Runs `fn` with stdout captured (Powertools writes EMF through its own Console on process.stdout). */
async function stdoutOf(fn: () => unknown): Promise<string> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}

/** Every metric datum written by `fn`, read from its EMF output. */
async function emfOf(fn: () => unknown): Promise<EmfMetric[]> {
  return emfDocuments(await stdoutOf(fn)).flatMap(emfMetrics);
}

const sum = (v: number | number[]) => (Array.isArray(v) ? v.reduce((a, b) => a + b, 0) : v);

/** Each metric with each dimension value it is written with here: every known value, and samples of the free ones. */
const CASES: { metric: MetricKey; unit: 'Count' | 'Milliseconds'; value?: string }[] = (Object.keys(METRIC) as MetricKey[]).flatMap((metric) => {
  const spec = METRIC[metric];
  const values: (string | undefined)[] =
    metric === 'callRefused'
      ? [...CALL_REFUSAL_REASONS]
      : metric === 'handlerLatency'
        ? ['token', 'callIncoming', 'registryUpgrade']
        : [...(('values' in spec && spec.values) || [undefined])];
  return values.map((value) => ({ metric, unit: spec.unit, ...(value !== undefined ? { value } : {}) }));
});

describe('the Powertools adapter writes each metric as EMF, with exactly its dimension set', () => {
  test('the metric list is the one the alarms and the dashboard read', () => {
    expect(METRICS_NAMESPACE).toBe('TwilioSoftphone');
    expect(METRICS_SERVICE).toBe('twilio-softphone');
    expect(Object.fromEntries(Object.entries(METRIC).map(([k, s]) => [k, [s.name, s.unit, 'dimension' in s ? s.dimension : null]]))).toEqual({
      signIn: ['SignIn', 'Count', 'Result'],
      signatureRejected: ['SignatureRejected', 'Count', null],
      incomingCall: ['IncomingCalls', 'Count', null],
      missedCall: ['MissedCalls', 'Count', null],
      voicemail: ['Voicemails', 'Count', null],
      callRefused: ['CallsRefused', 'Count', 'Reason'],
      dependencyFailure: ['DependencyFailures', 'Count', 'Dependency'],
      handlerLatency: ['HandlerLatency', 'Milliseconds', 'Function'],
      twilioAlert: ['TwilioAlerts', 'Count', 'Level'],
    });
    // the toll-fraud reasons the alarm sums are reasons the handlers write
    for (const reason of TOLL_FRAUD_REASONS) expect(CALL_REFUSAL_REASONS).toContain(reason);
  });

  test.each(CASES.map((c) => [`${c.metric}${c.value === undefined ? '' : ` ${c.value}`}`, c] as const))(
    '%s',
    async (_name, { metric, unit, value }) => {
      const metrics = new PowertoolsMetricsAdapter();
      const written = await emfOf(() => {
        if (unit === 'Count') metrics.count(metric, value);
        else metrics.milliseconds(metric, 12.5, value);
        metrics.flush();
      });
      const spec = METRIC[metric];
      const own = 'dimension' in spec ? { [spec.dimension]: value as string } : {};
      expect(written).toEqual([
        {
          namespace: 'TwilioSoftphone',
          name: spec.name,
          unit,
          dimensions: { service: 'twilio-softphone', ...own },
          value: unit === 'Count' ? 1 : 12.5,
        },
      ]);
    },
  );

  test('one invocation: each dimension set in a document of its own, repeated counts summed, nothing left for the next', async () => {
    const metrics = new PowertoolsMetricsAdapter();
    const first = await emfOf(() => {
      metrics.count('signatureRejected');
      metrics.count('incomingCall');
      metrics.count('signatureRejected');
      metrics.count('callRefused', 'premium-rate');
      metrics.count('callRefused', 'limit', 2);
      metrics.count('dependencyFailure', 'DynamoDB');
      metrics.milliseconds('handlerLatency', 3, 'callOutgoing');
      metrics.flush();
    });
    const byName = (name: string, dims: Record<string, string>) =>
      first.filter((m) => m.name === name && JSON.stringify(m.dimensions) === JSON.stringify({ service: 'twilio-softphone', ...dims }));
    expect(sum(byName('SignatureRejected', {})[0].value)).toBe(2);
    expect(sum(byName('IncomingCalls', {})[0].value)).toBe(1);
    expect(sum(byName('CallsRefused', { Reason: 'premium-rate' })[0].value)).toBe(1);
    expect(sum(byName('CallsRefused', { Reason: 'limit' })[0].value)).toBe(2);
    expect(sum(byName('DependencyFailures', { Dependency: 'DynamoDB' })[0].value)).toBe(1);
    expect(sum(byName('HandlerLatency', { Function: 'callOutgoing' })[0].value)).toBe(3);
    // no metric ever appears under a dimension set other than its own
    for (const m of first) {
      const spec = Object.values(METRIC).find((s) => s.name === m.name)!;
      expect(Object.keys(m.dimensions)).toEqual(['service', ...('dimension' in spec ? [spec.dimension] : [])]);
    }
    // flushed: the next invocation starts empty, and an invocation that counted nothing writes nothing
    expect(await stdoutOf(() => metrics.flush())).toBe('');
  });

  test('a datum that does not fit its metric is refused, never written', async () => {
    const refused: unknown[] = [];
    const metrics = new PowertoolsMetricsAdapter({ onInvalid: (what) => refused.push(what) });
    const out = await stdoutOf(() => {
      metrics.count('signIn', 'maybe'); // not one of its Results
      metrics.count('signIn'); // its dimension missing
      metrics.count('signatureRejected', 'extra'); // a dimension it has none of
      metrics.milliseconds('incomingCall', 5); // the wrong unit
      metrics.count('handlerLatency', 'token'); // the wrong unit
      metrics.count('callRefused', 'a reason with spaces'); // not a plain value
      metrics.count('callRefused', 'x'.repeat(100)); // too long
      metrics.count('incomingCall', undefined, Number.NaN);
      metrics.flush();
    });
    expect(out).toBe('');
    expect(refused).toHaveLength(8);
    expect(metricDatum('twilioAlert', 'Count', 'error')).toEqual({
      name: 'TwilioAlerts',
      unit: 'Count',
      dimension: { name: 'Level', value: 'error' },
    });
  });

  test('the recording sink applies the same rules and sums by dimension value', () => {
    const metrics = new RecordingMetrics();
    metrics.count('signIn', 'ok');
    metrics.count('signIn', 'ok');
    metrics.count('signIn', 'refused');
    metrics.count('incomingCall');
    metrics.count('signIn', 'bogus');
    metrics.milliseconds('handlerLatency', 4, 'token');
    expect(metrics.totals()).toEqual({ SignIn: { ok: 2, refused: 1 }, IncomingCalls: { '-': 1 } });
    expect(metrics.rejected).toEqual([{ metric: 'signIn', unit: 'Count', dimensionValue: 'bogus' }]);
    expect(metrics.records.find((r) => r.metric === 'handlerLatency')).toEqual({
      metric: 'handlerLatency',
      name: 'HandlerLatency',
      unit: 'Milliseconds',
      value: 4,
      dimensions: { service: 'twilio-softphone', Function: 'token' },
    });
  });
});

describe('the Lambda runtime writes every invocation’s metrics', () => {
  const fakeDeps = (): HandlerDeps => ({
    lines: {} as LineDirectory,
    attempts: {} as AttemptStore,
    credentials: staticCredentials(TEST_CREDENTIALS),
    config: testConfig(),
  });

  test('a handler that throws: what it counted and its HandlerLatency are written all the same', async () => {
    const failing: HandlerFactory =
      () =>
      async (_event, { metrics }) => {
        metrics.count('incomingCall');
        throw new Error('boom');
      };
    const handler = lambdaHandler('callIncoming', failing, fakeDeps, { ...process.env });
    let error: unknown;
    const written = await emfOf(async () => {
      error = await handler({}).catch((e: unknown) => e);
    });
    expect((error as Error).message).toBe('boom');
    expect(written.map((m) => [m.name, m.dimensions])).toEqual(
      expect.arrayContaining([
        ['IncomingCalls', { service: 'twilio-softphone' }],
        ['HandlerLatency', { service: 'twilio-softphone', Function: 'callIncoming' }],
      ]),
    );
    const latency = written.find((m) => m.name === 'HandlerLatency')!;
    expect(latency.unit).toBe('Milliseconds');
    expect(sum(latency.value)).toBeGreaterThanOrEqual(0);
  });

  test('a real webhook handler refusing an unsigned request: SignatureRejected, then HandlerLatency, one flush per invocation', async () => {
    const handler = lambdaHandler('callIncoming', HANDLER_TABLE.callIncoming, fakeDeps, { ...process.env });
    const unsigned = signedEvent(INCOMING_RESOURCE, incomingCallParams(), { signature: 'not-the-signature' });
    const first = await emfOf(() => expect(handler(unsigned)).rejects.toThrow('[403] Forbidden'));
    expect(first.map((m) => m.name).sort()).toEqual(['HandlerLatency', 'SignatureRejected']);
    expect(first.every((m) => m.namespace === 'TwilioSoftphone')).toBe(true);
    // the next invocation writes its own, not the first one's again
    const second = await emfOf(() => expect(handler(unsigned)).rejects.toThrow('[403] Forbidden'));
    expect(second.map((m) => [m.name, sum(m.value)]).sort()).toEqual([
      ['HandlerLatency', expect.any(Number)],
      ['SignatureRejected', 1],
    ]);
  });

  test('POWERTOOLS_METRICS_DISABLED=true switches the output off (Powertools’ own switch)', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    try {
      const metrics = new PowertoolsMetricsAdapter();
      expect(
        await stdoutOf(() => {
          metrics.count('incomingCall');
          metrics.flush();
        }),
      ).toBe('');
    } finally {
      delete process.env.POWERTOOLS_METRICS_DISABLED;
    }
  });
});
