/**
 * POST /twilio/retrieve_twiml/call_incoming — a call to a registered Twilio number rings its softphone.
 */
import { isE164 } from '../core/e164';
import { describeError } from '../core/errors';
import { dialClientTwiml, sayAndHangupTwiml, temporarilyUnavailableTwiml } from '../core/twiml';
import { isDependencyFault } from '../ports';
import type { Handler, HandlerDeps } from './deps';
import { verifiedWebhook } from './webhook-common';

export function createIncomingCallHandler(deps: HandlerDeps): Handler<string> {
  const { devices } = deps;
  return async (event, { log }) => {
    try {
      const { params } = await verifiedWebhook(event, deps, log);
      const to = params.To;
      if (!isE164(to)) {
        log.warn('To is not an E.164 phone number');
        return sayAndHangupTwiml('An error occurred. The called Twilio phone number is invalid.');
      }
      const device = await devices.findByNumber(to);
      if (!device) {
        log.warn('number not registered', { to });
        return sayAndHangupTwiml(`An error occurred. Your Twilio phone number ${to} is invalid.`);
      }
      log.info('dialling client', { to, clientName: device.clientName, callSid: params.CallSid });
      return dialClientTwiml(device.clientName);
    } catch (err) {
      if (isDependencyFault(err)) {
        log.error('dependency failure', { error: describeError(err) });
        return temporarilyUnavailableTwiml();
      }
      throw err;
    }
  };
}
