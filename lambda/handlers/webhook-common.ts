/** Shared steps of the TwiML handlers: parse the event, verify the Twilio signature, answer known faults. */
import { forbidden } from '../core/http-error';
import { temporarilyUnavailableTwiml } from '../core/twiml';
import { isValidTwilioSignature, parseWebhookEvent, signedUrlCandidates, type WebhookEvent } from '../core/webhook';
import type { CredentialsProvider } from '../ports';
import type { HandlerDeps, InvocationContext } from './deps';
import { answerDependencyFault } from './dependency-failure';

/** What checking a webhook's signature takes: the settings and the Twilio secret (each handler requires it when built). */
export interface WebhookSigning {
  config: HandlerDeps['config'];
  credentials: CredentialsProvider;
}

/**
 * Returns the verified event. Throws `[403] Forbidden` for a malformed event or a missing/wrong signature, and
 * counts it (SignatureRejected); lets CredentialsError through (the caller answers "temporarily unavailable"). A
 * present but wrong signature triggers one rate-limited re-read of the secret first (see `matchesRefreshedAuthToken`).
 */
export async function verifiedWebhook(event: unknown, deps: WebhookSigning, { log, metrics }: InvocationContext): Promise<WebhookEvent> {
  const parsed = parseWebhookEvent(event);
  if (!parsed) {
    log.warn('malformed webhook event');
    metrics.count('signatureRejected');
    throw forbidden();
  }
  if (!deps.config.validateWebhookSignatures) return parsed;
  const { credentials } = deps;
  const { authToken } = await credentials();
  const urls = signedUrlCandidates(parsed, deps.config);
  if (signedByToken(authToken, parsed, urls)) return parsed;
  if (parsed.signature !== '' && (await matchesRefreshedAuthToken(parsed, urls, authToken, credentials))) {
    log.info('signature matched the re-read Twilio secret (Auth Token rotated)');
    return parsed;
  }
  log.warn('missing or wrong X-Twilio-Signature', { url: urls[0], hasSignature: parsed.signature !== '' });
  metrics.count('signatureRejected');
  throw forbidden();
}

/**
 * A signed request that does not match the cached Auth Token may follow a rotation: re-read the secret (the
 * provider allows this at most once per interval per container, so unsigned or forged floods cost no more
 * Secrets Manager calls) and check again with the new Auth Token, if it changed.
 */
async function matchesRefreshedAuthToken(
  parsed: WebhookEvent,
  urls: string[],
  cachedToken: string,
  credentials: CredentialsProvider,
): Promise<boolean> {
  const fresh = await credentials.refresh?.();
  if (!fresh || fresh.authToken === cachedToken) return false;
  return signedByToken(fresh.authToken, parsed, urls);
}

function signedByToken(authToken: string, parsed: WebhookEvent, urls: string[]): boolean {
  return urls.some((url) => isValidTwilioSignature(authToken, parsed.signature, url, parsed.params));
}

/**
 * Runs a webhook's work; a known dependency fault (DynamoDB, Secrets Manager) is answered with valid
 * "temporarily unavailable" TwiML (status 200), so the caller hears why instead of Twilio's generic error, and
 * counted (DependencyFailures).
 */
export function unavailableOnFault(ctx: InvocationContext, work: () => Promise<string>): Promise<string> {
  return answerDependencyFault(ctx, work, temporarilyUnavailableTwiml);
}
