/**
 * X-Ray tracing of a function with Powertools Tracer (the stack runs the functions with active tracing, and
 * the API stage with tracing on): each invocation is a subsegment `## <function id>` of Lambda's segment,
 * annotated with `ColdStart`, `Service` and `route`; each AWS SDK v3 client a handler uses is captured
 * (`captureAWSv3Client`), so every DynamoDB, Secrets Manager, S3 and SNS call is a subsegment of its own, and
 * outgoing HTTPS (Twilio's REST API, through `fetch`) is captured by Powertools' default.
 *
 * Off, and then nothing but a function call per invocation, outside Lambda (no AWS_EXECUTION_ENV: the local app,
 * the tests), with POWERTOOLS_TRACE_ENABLED=false, and for an invocation without a trace id (no
 * `_X_AMZN_TRACE_ID`: tracing not active on the function). When off from the start, the tracer and the X-Ray SDK
 * are not even loaded: they are what tracing costs a cold start (about 20-30 ms, `npm run bench` with
 * AWS_EXECUTION_ENV set), so POWERTOOLS_TRACE_ENABLED=false gives that back.
 *
 * Nothing a response carries is added to the trace (no `captureResponse`): a token's answer holds the Access
 * Token. A handler's refusal (`[4xx] …`, the error convention) is an answer, not a fault: it is annotated with
 * its status; anything else thrown is added as the subsegment's error.
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { parseHttpErrorMessage } from '../core/http-error';
import { METRICS_SERVICE } from '../core/metrics';
import type { CaptureClient } from './aws-clients';

/** Whether a function's environment asks for tracing: in Lambda (AWS_EXECUTION_ENV), unless POWERTOOLS_TRACE_ENABLED=false. */
export function tracingEnabled(env: NodeJS.ProcessEnv): boolean {
  return (env.POWERTOOLS_TRACE_ENABLED ?? '').trim().toLowerCase() !== 'false' && (env.AWS_EXECUTION_ENV ?? '').trim() !== '';
}

export interface InvocationTracer {
  /** whether invocations are traced at all */
  readonly enabled: boolean;
  /** captures an AWS SDK v3 client (unchanged when tracing is off) */
  captureClient: CaptureClient;
  /** Runs one invocation in its own subsegment (just runs it when there is no trace). */
  trace<R>(work: () => Promise<R>): Promise<R>;
}

/** Tracing off: the client as it is, the invocation as it is. */
const UNTRACED: InvocationTracer = { enabled: false, captureClient: (client) => client, trace: (work) => work() };

/**
 * Build-time constant of a Lambda bundle (lib/lambda-bundling.ts `functionDefines`): whether the bundle carries
 * Powertools Tracer at all. Undefined outside a bundle (tests, the local app), where the environment decides alone.
 */
declare const SOFTPHONE_DETAILED_TRACING: boolean | undefined;

/**
 * The tracer module, loaded only when tracing is on; undefined when the bundle was built without it (the define
 * folds this to `undefined`, so esbuild leaves the tracer and the X-Ray SDK out: 134 KB of every cold start).
 */
function loadTracer(): typeof Tracer | undefined {
  return typeof SOFTPHONE_DETAILED_TRACING !== 'undefined' && !SOFTPHONE_DETAILED_TRACING
    ? undefined
    : (require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')).Tracer;
}

export function createInvocationTracer(id: string, env: NodeJS.ProcessEnv = process.env): InvocationTracer {
  if (!tracingEnabled(env)) return UNTRACED;
  const TracerClass = loadTracer();
  if (!TracerClass) return UNTRACED;
  // Powertools makes its own check of the environment too (in Lambda, not SAM, not switched off): both must agree.
  const tracer = new TracerClass({ serviceName: env.POWERTOOLS_SERVICE_NAME?.trim() || METRICS_SERVICE });
  const enabled = tracer.isTracingEnabled();
  if (!enabled) return UNTRACED;
  return {
    enabled,
    captureClient: (client) => tracer.captureAWSv3Client(client),
    trace: async (work) => {
      if (tracer.getRootXrayTraceId() === undefined) return work();
      const segment = tracer.getSegment();
      if (!segment) return work();
      const subsegment = segment.addNewSubsegment(`## ${id}`);
      tracer.setSegment(subsegment);
      try {
        tracer.annotateColdStart();
        tracer.addServiceNameAnnotation();
        tracer.putAnnotation('route', id);
        return await work();
      } catch (err) {
        const answered = err instanceof Error ? parseHttpErrorMessage(err.message) : undefined;
        if (answered && answered.status < 500) tracer.putAnnotation('status', answered.status);
        else tracer.addErrorAsMetadata(err as Error);
        throw err;
      } finally {
        try {
          subsegment.close();
        } catch {
          // A trace that cannot be closed must not fail the invocation.
        }
        tracer.setSegment(segment);
      }
    },
  };
}
