/**
 * What the page's own API (voicemails, directory) shares: its event, as the request template renders it with
 * the identity the authorizer verified, and the caller's device (a device removed since its token was issued
 * is refused).
 */
import { pageError } from '../core/http-error';
import { isValidClientName } from '../core/phone-rules';
import type { Device, LineDirectory } from '../ports';
import { answerDependencyFault } from './dependency-failure';
import type { InvocationContext } from './deps';

export interface PageEvent {
  /** `$context.authorizer.identity`: the Client identity of the Access Token the authorizer verified */
  identity: string;
  /** the request body */
  request: Record<string, unknown>;
}

export function parsePageEvent(event: unknown): PageEvent {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const { identity, request } = e;
  if (typeof identity !== 'string' || !isValidClientName(identity)) throw pageError(403, 'Sign in again.');
  if (typeof request !== 'object' || request === null || Array.isArray(request)) throw pageError(400, 'The request body must be a JSON object.');
  return { identity, request: request as Record<string, unknown> };
}

/** The signed-in device; 403 when it has been removed since it signed in. */
export async function callerDevice(lines: LineDirectory, identity: string): Promise<Device> {
  const device = await lines.findByClientName(identity);
  if (!device) throw pageError(403, 'This device is no longer registered. Ask your administrator.');
  return device;
}

/**
 * Runs a page request's work; a known dependency fault (DynamoDB or S3 down) answers 503 with a JSON error and is
 * counted (DependencyFailures).
 */
export function unavailableOnPageFault<R>(ctx: InvocationContext, work: () => Promise<R>): Promise<R> {
  return answerDependencyFault(ctx, work, () => {
    throw pageError(503, 'The service is temporarily unavailable. Please try again in a moment.');
  });
}
