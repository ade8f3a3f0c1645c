/**
 * The handlers in the Lambda runtime: their deps built from the function's environment (function-deps.ts), a
 * log that tags every line with the invocation (Powertools `addContext`: request id, cold start, function) and
 * the function's id, the metrics (Powertools Metrics, EMF: powertools-metrics.ts) and the X-Ray trace
 * (Powertools Tracer: tracing.ts).
 */
import type { Context } from 'aws-lambda';
import { describeError } from '../core/errors';
import type { Handler, HandlerFactory } from '../handlers/deps';
import type { DepsBuilder } from './function-deps';
import { createLogger, powertoolsLog } from './powertools-log';
import { PowertoolsMetricsAdapter } from './powertools-metrics';
import { createInvocationTracer } from './tracing';

/**
 * The Lambda handler of a function: builds its handler with deps from the environment on first use and keeps it
 * for the container's life (its AWS clients captured by the tracer); each invocation's log lines carry its
 * context and the function's id, it runs in its own trace subsegment, records HandlerLatency (by Function: the
 * function's id) and writes its metrics when it ends, whether it answered or threw.
 */
export function lambdaHandler(
  id: string,
  factory: HandlerFactory,
  buildDeps: DepsBuilder,
  env: NodeJS.ProcessEnv = process.env,
): (event: unknown, context?: Context) => Promise<unknown> {
  const logger = createLogger();
  logger.appendKeys({ route: id });
  const log = powertoolsLog(logger);
  const metrics = new PowertoolsMetricsAdapter({
    onInvalid: (what) => log.warn('metric not recorded: it does not fit its definition (core/metrics.ts)', what),
    onFlushError: (err) => log.warn('metrics not written', { error: describeError(err) }),
  });
  const tracer = createInvocationTracer(id, env);
  let handler: Handler | undefined;
  return async (event, context) => {
    if (context) logger.addContext(context);
    const started = performance.now();
    try {
      return await tracer.trace(() => {
        handler ??= factory(buildDeps(env, tracer.captureClient));
        return handler(event, { log, metrics });
      });
    } finally {
      metrics.milliseconds('handlerLatency', performance.now() - started, id);
      metrics.flush();
    }
  };
}
