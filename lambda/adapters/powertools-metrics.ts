/**
 * The Metrics port in Lambda: Powertools Metrics, written as CloudWatch Embedded Metric Format (EMF) lines on
 * stdout, which CloudWatch Logs turns into metrics of the namespace METRICS_NAMESPACE (core/metrics.ts).
 *
 * In one EMF document every metric gets every dimension set of the document, so the metrics of each dimension
 * set go in documents of their own: the metrics without a dimension of their own in one Powertools instance
 * (dimensions {service}), and each (dimension, value) pair in its own instance whose default dimensions are
 * {service, <dimension>: <value>} (the equivalent of `singleMetric()`, without a document per datum). An
 * invocation's data are buffered and written by `flush()` (lambda-runtime.ts calls it after every invocation,
 * also when the handler throws). Namespace and service are fixed here, not taken from the environment, so the
 * alarms and the dashboard (built on exactly these) always find them. POWERTOOLS_METRICS_DISABLED=true turns the
 * output off (Powertools' own switch).
 */
import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, METRICS_SERVICE, type MetricDatum, metricDatum } from '../core/metrics';
import type { MetricKey, Metrics } from '../ports';

const UNITS: Record<MetricDatum['unit'], (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
};

/** At most this many (dimension, value) instances: values are checked (`metricDatum`), so this is only a backstop. */
const MAX_DIMENSION_INSTANCES = 64;

export interface PowertoolsMetricsOptions {
  /** told of each datum refused (a wrong unit, a dimension value that does not fit its metric: a bug) */
  onInvalid?: (what: { metric: MetricKey; unit: MetricDatum['unit']; dimensionValue?: string }) => void;
  /** told when writing the metrics failed (never thrown into the invocation) */
  onFlushError?: (err: unknown) => void;
}

export class PowertoolsMetricsAdapter implements Metrics {
  /** the metrics without a dimension of their own: dimensions {service} */
  private readonly plain: PowertoolsMetrics;
  /** one instance per (dimension, value): dimensions {service, dimension} */
  private readonly dimensioned = new Map<string, PowertoolsMetrics>();

  constructor(private readonly opts: PowertoolsMetricsOptions = {}) {
    this.plain = create();
  }

  count(metric: MetricKey, dimensionValue?: string, value = 1): void {
    this.add(metric, 'Count', value, dimensionValue);
  }

  milliseconds(metric: MetricKey, ms: number, dimensionValue?: string): void {
    this.add(metric, 'Milliseconds', ms, dimensionValue);
  }

  /** Writes what was recorded since the last flush: one EMF line per dimension set used. Never throws. */
  flush(): void {
    for (const instance of [this.plain, ...this.dimensioned.values()]) {
      if (!instance.hasStoredMetrics()) continue;
      try {
        instance.publishStoredMetrics();
      } catch (err) {
        this.opts.onFlushError?.(err);
      }
    }
  }

  private add(metric: MetricKey, unit: MetricDatum['unit'], value: number, dimensionValue?: string): void {
    const datum = metricDatum(metric, unit, dimensionValue);
    const instance = datum && Number.isFinite(value) ? this.instanceFor(datum) : undefined;
    if (!datum || !instance) {
      this.opts.onInvalid?.({ metric, unit, ...(dimensionValue !== undefined ? { dimensionValue } : {}) });
      return;
    }
    try {
      instance.addMetric(datum.name, UNITS[datum.unit], value);
    } catch (err) {
      this.opts.onFlushError?.(err);
    }
  }

  private instanceFor(datum: MetricDatum): PowertoolsMetrics | undefined {
    if (!datum.dimension) return this.plain;
    const key = `${datum.dimension.name}=${datum.dimension.value}`;
    let instance = this.dimensioned.get(key);
    if (!instance) {
      if (this.dimensioned.size >= MAX_DIMENSION_INSTANCES) return undefined;
      instance = create({ [datum.dimension.name]: datum.dimension.value });
      this.dimensioned.set(key, instance);
    }
    return instance;
  }
}

function create(defaultDimensions?: Record<string, string>): PowertoolsMetrics {
  return new PowertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE, ...(defaultDimensions ? { defaultDimensions } : {}) });
}
