/**
 * The handlers in the Lambda runtime: their deps built from the function's environment (function-deps.ts), and a
 * log that tags every line with the invocation (Powertools `addContext`: request id, cold start, function) and
 * the function's id.
 */
import type { Context } from 'aws-lambda';
import type { Handler, HandlerFactory } from '../handlers/deps';
import type { DepsBuilder } from './function-deps';
import { createLogger, powertoolsLog } from './powertools-log';

/**
 * The Lambda handler of a function: builds its handler with deps from the environment on first use and keeps it
 * for the container's life; each invocation's log lines carry its context and the function's id.
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
  let handler: Handler | undefined;
  return (event, context) => {
    if (context) logger.addContext(context);
    handler ??= factory(buildDeps(env));
    return handler(event, { log });
  };
}
