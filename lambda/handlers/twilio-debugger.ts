/**
 * POST /twilio/debugger_events — Twilio's Debugger webhook (Console: Monitor → Debugger → Webhook; the
 * "Debugging Events Webhook"): each error or warning Twilio records on the account becomes a metric
 * (TwilioAlerts by Level, which the alarms watch) and one log line naming the error code, the level, the
 * resource's SID and the URL Twilio called (without its query). Never the request's parameters, the response's
 * body or `more_info` (lambda/core/debugger-event.ts): they can hold personal data.
 *
 * Signed like every webhook (an unsigned or forged event is refused: 403). Twilio ignores the answer: an event
 * of another account, or one that is not a Debugger event, is answered with an empty `<Response/>` and a warning,
 * never a 5xx; a Secrets Manager failure (the signature needs the Auth Token) too, counted.
 */
import { parseDebuggerEvent } from '../core/debugger-event';
import { describeError } from '../core/errors';
import { emptyTwiml } from '../core/twiml';
import { isDependencyFault } from '../ports';
import { countDependencyFailure } from './dependency-failure';
import { type Handler, type HandlerDeps, requireDeps } from './deps';
import { verifiedWebhook } from './webhook-common';

export function createTwilioDebuggerHandler(deps: HandlerDeps): Handler<string> {
  const { credentials } = requireDeps(deps, 'Twilio Debugger', ['credentials']);
  const signing = { config: deps.config, credentials };
  return async (event, ctx) => {
    const { log, metrics } = ctx;
    try {
      const { params } = await verifiedWebhook(event, signing, ctx);
      const { accountSid } = await credentials();
      if (params.AccountSid !== accountSid) {
        log.warn('Debugger event of another account: ignored');
        return emptyTwiml();
      }
      const parsed = parseDebuggerEvent(params);
      if (!parsed.ok) {
        log.warn('Debugger event not understood: ignored', { reason: parsed.reason });
        return emptyTwiml();
      }
      const { alert } = parsed;
      metrics.count('twilioAlert', alert.level);
      const fields = { ...alert, ...(params.ParentAccountSid ? { subaccount: true } : {}) };
      if (alert.level === 'error') log.error('Twilio error', fields);
      else log.warn('Twilio warning', fields);
      return emptyTwiml();
    } catch (err) {
      if (!isDependencyFault(err)) throw err;
      log.error('dependency failure: Debugger event not read', { error: describeError(err) });
      countDependencyFailure(metrics, err);
      return emptyTwiml();
    }
  };
}
