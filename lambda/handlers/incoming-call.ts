/**
 * POST /twilio/retrieve_twiml/call_incoming — a call to a registered Twilio number rings its softphone.
 */
import { describeError } from '../core/logger';
import { isE164 } from '../core/e164';
import { dialClientTwiml, sayAndHangupTwiml, temporarilyUnavailableTwiml } from '../core/twiml';
import type { HandlerDeps } from './deps';
import { isKnownFault } from './faults';
import { verifiedWebhook } from './webhook-common';

export type { HandlerDeps };

export function createIncomingCallHandler(deps: HandlerDeps): (event: unknown) => Promise<string> {
  const { registry, logger } = deps;
  return async (event: unknown): Promise<string> => {
    try {
      const { params } = await verifiedWebhook(event, deps, 'call_incoming');
      const to = params.To;
      if (!isE164(to)) {
        logger.warn('call_incoming: To is not an E.164 phone number');
        return sayAndHangupTwiml('An error occurred. The called Twilio phone number is invalid.');
      }
      const device = await registry.findByNumber(to);
      if (!device) {
        logger.warn('call_incoming: number not registered', { to });
        return sayAndHangupTwiml(`An error occurred. Your Twilio phone number ${to} is invalid.`);
      }
      logger.info('call_incoming: dialling client', { to, clientName: device.clientName, callSid: params.CallSid });
      return dialClientTwiml(device.clientName);
    } catch (err) {
      if (isKnownFault(err)) {
        logger.error('call_incoming: dependency failure', { error: describeError(err) });
        return temporarilyUnavailableTwiml();
      }
      throw err;
    }
  };
}
