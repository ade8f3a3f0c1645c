/**
 * The Log port in Lambda: Powertools Logger, structured JSON lines. Per invocation, `lambda-runtime.ts` adds
 * the Lambda context (request id, cold start, function) and the route to every line.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { Log } from '../ports';

/** POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL (set by the stack) win over the default service name. */
export function createLogger(serviceName = 'twilio-softphone'): Logger {
  return new Logger(process.env.POWERTOOLS_SERVICE_NAME ? {} : { serviceName });
}

/** The Log port over a Powertools Logger (its extra fields become keys of the JSON line). */
export function powertoolsLog(logger: Logger): Log {
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) =>
    fields ? logger[level](message, fields as LogAttributes) : logger[level](message);
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
