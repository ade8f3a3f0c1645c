/**
 * What the call-flow webhooks share: a line as the pure call flow sees it, and the URLs its TwiML hands back to
 * Twilio. Whether the forward number may be dialled is the action webhook's question (`forward-policy.ts`): the
 * incoming-call function never forwards, so it carries no destination policy nor its phone metadata.
 */
import type { LineCall } from '../core/call-flow';
import { dialLegQuery } from '../core/call-log';
import { stageToQuery } from '../core/call-flow';
import { MAX_LINE_MEMBERS } from '../core/line';
import { API_PATHS } from '../core/paths';
import type { AppConfig } from '../core/settings';
import type { FlowContext } from '../core/twiml';
import { apiBaseUrl, type WebhookEvent, webhookUrl } from '../core/webhook';
import type { Line } from '../ports';

/** The line as the call flow sees it; `forwardAllowed` from `mayForward` where a forward can come next. */
export function lineCall(line: Line, forwardAllowed: boolean): LineCall {
  return { settings: line.settings, members: line.members.slice(0, MAX_LINE_MEMBERS).map((m) => m.clientName), forwardAllowed };
}

/** The URLs and numbers of a line's call flow, from the webhook Twilio called (its base URL, its From/To). */
export function flowContext(event: WebhookEvent, line: string, config: AppConfig): FlowContext {
  const base = apiBaseUrl(event, config);
  const caller = event.params.From ?? '';
  return {
    caller,
    line,
    callTimeLimitSeconds: config.callTimeLimitSeconds,
    urls: {
      action: (stage) => webhookUrl(base, API_PATHS.callAction, stageToQuery(stage)),
      screen: webhookUrl(base, API_PATHS.forwardScreen, { stage: 'prompt', line, caller }),
      recordingStatus: webhookUrl(base, API_PATHS.recordingStatus, { line, caller }),
      memberStatus: webhookUrl(base, API_PATHS.callStatus, dialLegQuery('member', { line, caller })),
      forwardStatus: webhookUrl(base, API_PATHS.callStatus, dialLegQuery('forward', { line, caller })),
    },
  };
}
