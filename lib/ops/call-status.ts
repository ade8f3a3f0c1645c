/**
 * The stack's webhook URLs as Twilio is configured to call them: where Twilio reports how calls end, for the call
 * log (`POST …/twilio/call_status`, API_PATHS.callStatus); the "Test my setup" TwiML App's voice URL; the Debugger
 * webhook. All on the base the incoming-call webhook output names (a custom domain when the stack has one).
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

/**
 * `<base>/twilio/retrieve_twiml/preflight` (API_PATHS.preflight): the voice URL (POST) of the "Test my setup"
 * TwiML App that `twilio:setup` creates; the Voice SDK's preflight test calls it with a token the token API issues
 * for that app. On the same base as every webhook, where the functions check Twilio's signature.
 */
export function preflightUrl(outputs: Pick<StackOutputs, 'ApiUrl' | 'IncomingCallWebhookUrl'>): string {
  return `${webhookBaseUrl(outputs)}${API_PATHS.preflight}`;
}

/**
 * `<base>/twilio/debugger_events` (API_PATHS.twilioDebugger): where Twilio's Debugger posts the account's errors
 * and warnings (signed like every webhook), which the stack turns into the TwilioAlerts metric and log lines.
 */
export function debuggerWebhookUrl(outputs: Pick<StackOutputs, 'ApiUrl' | 'IncomingCallWebhookUrl'>): string {
  return `${webhookBaseUrl(outputs)}${API_PATHS.twilioDebugger}`;
}

/**
 * The one piece of Twilio configuration no API sets: the Console Debugger's webhook. Twilio's OpenAPI description
 * of its REST API (test/support/twilio-oai, the 2010-04-01 API) has no resource for it — the Account resource
 * takes only FriendlyName and Status, and the Notifications resource (the 2010 API's error log) is read-only — and Twilio
 * documents it as set in the Console ("The Console Debugger allows developers to configure an optional webhook
 * to receive data about errors and warnings as they happen",
 * https://www.twilio.com/docs/usage/troubleshooting/debugging-event-webhooks). So `twilio:setup` prints this
 * once per run, and `doctor` says it cannot check it.
 */
export function debuggerWebhookStep(outputs: Pick<StackOutputs, 'ApiUrl' | 'IncomingCallWebhookUrl'>): string {
  return `in the Twilio Console, open Monitor → Logs → Errors → Webhook (the Debugger's webhook) and set the Webhook URL to ${debuggerWebhookUrl(outputs)}, then Save: Twilio then posts every error and warning of the account there (signed with the Auth Token), and the stack counts them as the TwilioAlerts metric`;
}
