/**
 * The structured JSON logger (Powertools). Never pass secrets, device secrets, tokens, signatures or auth
 * headers to it: handlers log only what failed and non-secret identifiers (numbers, client names, SIDs).
 */
import { Logger } from '@aws-lambda-powertools/logger';

export type { Logger };

/** POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL (set by the stack) win over the default service name. */
export function createLogger(serviceName = 'twilio-softphone'): Logger {
  return new Logger(process.env.POWERTOOLS_SERVICE_NAME ? {} : { serviceName });
}

/** A short, secret-free description of an error for the log (name, message, AWS error code). */
export function describeError(err: unknown): { name: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { Code?: unknown; code?: unknown }).Code ?? (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'NonError', message: String(err) };
}
