/** Shared steps of the two TwiML handlers: parse the event and verify the Twilio signature. */
import { forbidden } from '../core/http-error';
import { isValidTwilioSignature, parseWebhookEvent, publicWebhookUrl, type WebhookEvent } from '../core/webhook';
import type { HandlerDeps } from './deps';

/**
 * Returns the verified event. Throws `[403] Forbidden` for a malformed event or a missing/wrong signature;
 * lets CredentialsError through (the caller answers "temporarily unavailable").
 */
export async function verifiedWebhook(event: unknown, deps: HandlerDeps, route: string): Promise<WebhookEvent> {
  const parsed = parseWebhookEvent(event);
  if (!parsed) {
    deps.logger.warn(`${route}: malformed webhook event`);
    throw forbidden();
  }
  if (!deps.config.validateWebhookSignatures) return parsed;
  const { authToken } = await deps.credentials();
  const url = publicWebhookUrl(parsed, deps.config);
  if (!isValidTwilioSignature(authToken, parsed.signature, url, parsed.params)) {
    deps.logger.warn(`${route}: missing or wrong X-Twilio-Signature`, { url, hasSignature: parsed.signature !== '' });
    throw forbidden();
  }
  return parsed;
}
