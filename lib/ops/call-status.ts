/**
 * Where Twilio reports how calls end, for the call log (`POST …/twilio/call_status`, API_PATHS.callStatus).
 *
 * The `<Dial>` legs carry their own statusCallback in the TwiML the webhooks answer. The parent calls report
 * through the resource that received or placed them: a phone number (IncomingPhoneNumber `StatusCallback`,
 * `StatusCallbackMethod`) for calls to it, the TwiML App (Application, same fields) for calls made from the
 * softphone. Twilio posts those when the call completes. `twilio:setup` sets both; `doctor` checks them.
 */
import { API_PATHS } from '../../lambda/core/paths';
import type { StackOutputs } from '../../lambda/core/settings';

/** Twilio posts the status callback form-encoded, signed like every webhook. */
export const CALL_STATUS_METHOD = 'POST';

/**
 * The base URL Twilio calls the stack's webhooks at: the incoming-call webhook output without its path. That is
 * `ApiUrl` (`https://<api>/prod`), or the custom domain (publicBaseUrl) when the stack has one, where the functions
 * check Twilio's signature (lambda/core/webhook.ts), so the call-status URL must be on it too. `ApiUrl` (without
 * a trailing slash) when the output does not end with the incoming-call path.
 */
export function webhookBaseUrl(outputs: Pick<StackOutputs, 'ApiUrl' | 'IncomingCallWebhookUrl'>): string {
  const incoming = outputs.IncomingCallWebhookUrl;
  if (incoming.endsWith(API_PATHS.callIncoming)) return incoming.slice(0, incoming.length - API_PATHS.callIncoming.length);
  return outputs.ApiUrl.replace(/\/+$/, '');
}

/** `<base>/twilio/call_status`: the status callback of the numbers and the TwiML App. */
export function callStatusUrl(outputs: Pick<StackOutputs, 'ApiUrl' | 'IncomingCallWebhookUrl'>): string {
  return `${webhookBaseUrl(outputs)}${API_PATHS.callStatus}`;
}
