/**
 * The Metrics port without CloudWatch: it sums what it is given per metric and dimension value (the local app
 * shows the sums, the tests read them back), keeps each datum when asked (tests), and can hand each to a sink as
 * it comes (the local app logs them at debug level). The same checks as the Powertools adapter (core/metrics.ts
 * `metricDatum`): a datum that does not fit its metric is kept apart in `rejected`, never counted, so a test
 * sees the mistake.
 */
import { METRICS_SERVICE, type MetricDatum, metricDatum } from '../core/metrics';
import type { MetricKey, Metrics } from '../ports';

/** One datum as it would reach CloudWatch: name, unit, value, and its full dimension set (`service` included). */
export interface MetricRecord {
  metric: MetricKey;
  name: string;
  unit: MetricDatum['unit'];
  value: number;
  dimensions: Record<string, string>;
}

export interface RecordingMetricsOptions {
  /** the `service` dimension; default METRICS_SERVICE */
  service?: string;
  /** keep every datum in `records` (default true; a long-running app keeps only the sums) */
  keep?: boolean;
  /** called with each datum as it is recorded */
  onRecord?: (record: MetricRecord) => void;
}

/** The key of a sum: the metric's CloudWatch name, and its own dimension's value (`-` when it has none). */
const sumKey = (name: string, value: string | undefined) => `${name}\u0000${value ?? '-'}`;

export class RecordingMetrics implements Metrics {
  readonly records: MetricRecord[] = [];
  /** what was refused: a metric recorded with the wrong unit or a dimension value that does not fit it */
  readonly rejected: { metric: MetricKey; unit: MetricDatum['unit']; dimensionValue?: string }[] = [];
  private readonly sums = new Map<string, number>();

  constructor(private readonly opts: RecordingMetricsOptions = {}) {}

  count(metric: MetricKey, dimensionValue?: string, value = 1): void {
    this.add(metric, 'Count', value, dimensionValue);
  }

  milliseconds(metric: MetricKey, ms: number, dimensionValue?: string): void {
    this.add(metric, 'Milliseconds', ms, dimensionValue);
  }

  /**
   * Every sum by CloudWatch name, then by the metric's own dimension value (`-` for a metric without one), e.g.
   * `{ SignIn: { ok: 2 }, IncomingCalls: { '-': 1 } }`; HandlerLatency (a duration, not a count) is left out.
   */
  totals(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [key, sum] of this.sums) {
      const [name, value] = key.split('\u0000');
      if (name === 'HandlerLatency') continue;
      out[name] ??= {};
      out[name][value] = sum;
    }
    return out;
  }

  /** Forgets everything recorded. */
  clear(): void {
    this.records.length = 0;
    this.rejected.length = 0;
    this.sums.clear();
  }

  private add(metric: MetricKey, unit: MetricDatum['unit'], value: number, dimensionValue?: string): void {
    const datum = metricDatum(metric, unit, dimensionValue);
    if (!datum || !Number.isFinite(value)) {
      this.rejected.push({ metric, unit, ...(dimensionValue !== undefined ? { dimensionValue } : {}) });
      return;
    }
    const key = sumKey(datum.name, datum.dimension?.value);
    this.sums.set(key, (this.sums.get(key) ?? 0) + value);
    if (this.opts.keep === false && !this.opts.onRecord) return;
    const dimensions: Record<string, string> = { service: this.opts.service ?? METRICS_SERVICE };
    if (datum.dimension) dimensions[datum.dimension.name] = datum.dimension.value;
    const record: MetricRecord = { metric, name: datum.name, unit: datum.unit, value, dimensions };
    if (this.opts.keep !== false) this.records.push(record);
    this.opts.onRecord?.(record);
  }
}

/** Metrics that go nowhere. */
export const NO_METRICS: Metrics = { count: () => undefined, milliseconds: () => undefined };
