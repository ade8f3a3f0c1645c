/**
 * POST /twilio/retrieve_twiml/call_incoming — a call to a line's number: its members' softphones ring (all at
 * once or in turn), and a call nobody answers goes on (lambda/core/call-flow.ts) through the call-action webhook:
 * the forward number, voicemail, an apology. Outside the line's hours it goes straight to voicemail.
 */
import { firstStep } from '../core/call-flow';
import { isE164 } from '../core/e164';
import { flowStepTwiml, sayAndHangupTwiml } from '../core/twiml';
import { type Handler, type HandlerDeps, requireDeps } from './deps';
import { flowContext, lineCall } from './line-call';
import { unavailableOnFault, verifiedWebhook } from './webhook-common';

export function createIncomingCallHandler(deps: HandlerDeps): Handler<string> {
  const { config } = deps;
  const { lines, credentials } = requireDeps(deps, 'incoming call', ['lines', 'credentials']);
  const signing = { config: deps.config, credentials };
  const now = deps.clock ?? (() => new Date());
  return (event, ctx) =>
    unavailableOnFault(ctx, async () => {
      const { log, metrics } = ctx;
      const verified = await verifiedWebhook(event, signing, ctx);
      const to = verified.params.To;
      if (!isE164(to)) {
        log.warn('To is not an E.164 phone number');
        return sayAndHangupTwiml('An error occurred. The called Twilio phone number is invalid.');
      }
      const line = await lines.findLine(to);
      if (!line) {
        log.warn('number not registered', { to });
        return sayAndHangupTwiml(`An error occurred. Your Twilio phone number ${to} is invalid.`);
      }
      // The first step never forwards (call-flow.ts): no forward check here.
      const step = firstStep(lineCall(line, false), now());
      log.info('incoming call', { to, step: step.kind, members: line.members.length, callSid: verified.params.CallSid });
      const twiml = flowStepTwiml(step, flowContext(verified, to, config));
      metrics.count('incomingCall');
      return twiml;
    });
}
