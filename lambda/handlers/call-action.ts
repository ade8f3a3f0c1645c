/**
 * POST /twilio/retrieve_twiml/call_action — Twilio's `<Dial action>` (and `<Record action>`) webhook of a line's
 * call: how the last step ended (DialCallStatus, DialBridged, the caller's CallStatus) decides the next one. The
 * stage reached rides in the URL's query, which Twilio signs with the rest of the URL. When the caller has left a
 * message (`<Record action>`), the call log hears of it now, before the call's end is reported, so the call is
 * never counted missed on its way to voicemail (the recording's own callback comes later).
 */
import { type DialOutcome, nextStep, stageFromQuery } from '../core/call-flow';
import { isCallSid, isRecordingSid } from '../core/call-log';
import { describeError } from '../core/errors';
import { flowStepTwiml } from '../core/twiml';
import { type Handler, type HandlerDeps, requireDeps } from './deps';
import { forwardRefusal } from './forward-policy';
import { flowContext, lineCall } from './line-call';
import { unavailableOnFault, verifiedWebhook } from './webhook-common';

export function createCallActionHandler(deps: HandlerDeps): Handler<string> {
  const { config } = deps;
  const { lines, credentials } = requireDeps(deps, 'call action', ['lines', 'credentials']);
  const signing = { config: deps.config, credentials };
  return (event, ctx) =>
    unavailableOnFault(ctx, async () => {
      const { log, metrics } = ctx;
      const verified = await verifiedWebhook(event, signing, ctx);
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
      if (stage.stage === 'recorded' && deps.calls && isCallSid(params.CallSid) && isRecordingSid(params.RecordingSid)) {
        const caller = params.From ?? '';
        await deps.calls
          .apply({
            kind: 'voicemail',
            callSid: params.CallSid,
            at: Date.now(),
            line: to,
            direction: 'incoming',
            ...(caller ? { remote: caller } : {}),
          })
          .catch((err) => log.warn('voicemail not noted in the call log', { callSid: params.CallSid, error: describeError(err) }));
      }
      const refusal = forwardRefusal(line, config);
      const step = nextStep(lineCall(line, refusal === undefined), stage, outcome);
      if (refusal !== undefined && refusal !== 'self' && refusal !== 'none' && nextStep(lineCall(line, true), stage, outcome).kind === 'forward') {
        // The call would have been forwarded now, but the destination policy refuses the forward number today.
        log.warn('forward refused by the destination policy', { to, reason: refusal, callSid: params.CallSid });
        metrics.count('callRefused', refusal);
      }
      log.info('call action', { to, stage: stage.stage, dialCallStatus: outcome.dialCallStatus, step: step.kind, callSid: params.CallSid });
      return flowStepTwiml(step, flowContext(verified, to, config));
    });
}
