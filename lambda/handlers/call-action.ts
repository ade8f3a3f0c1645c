/**
 * POST /twilio/retrieve_twiml/call_action — Twilio's `<Dial action>` (and `<Record action>`) webhook of a line's
 * call: how the last step ended (DialCallStatus, DialBridged, the caller's CallStatus) decides the next one. The
 * stage reached rides in the URL's query, which Twilio signs with the rest of the URL.
 */
import { type DialOutcome, nextStep, stageFromQuery } from '../core/call-flow';
import { flowStepTwiml } from '../core/twiml';
import type { Handler, HandlerDeps } from './deps';
import { mayForward } from './forward-policy';
import { flowContext, lineCall } from './line-call';
import { unavailableOnFault, verifiedWebhook } from './webhook-common';

export function createCallActionHandler(deps: HandlerDeps): Handler<string> {
  const { lines, config } = deps;
  return (event, { log }) =>
    unavailableOnFault(log, async () => {
      const verified = await verifiedWebhook(event, deps, log);
      const { params } = verified;
      const stage = stageFromQuery(verified.query);
      const to = params.To ?? '';
      const line = stage ? await lines.findLine(to) : undefined;
      if (!stage || !line) {
        log.warn('call action for no stage or no line', { to, stage: verified.query.stage });
        return flowStepTwiml({ kind: 'apology', language: line?.settings.language ?? 'en-US' }, flowContext(verified, to, config));
      }
      const outcome: DialOutcome = {
        dialCallStatus: params.DialCallStatus ?? '',
        ...(params.DialBridged !== undefined ? { bridged: params.DialBridged === 'true' } : {}),
        ...(params.CallStatus !== undefined ? { callStatus: params.CallStatus } : {}),
      };
      const step = nextStep(lineCall(line, mayForward(line, config)), stage, outcome);
      log.info('call action', { to, stage: stage.stage, dialCallStatus: outcome.dialCallStatus, step: step.kind, callSid: params.CallSid });
      return flowStepTwiml(step, flowContext(verified, to, config));
    });
}
