/**
 * POST /twilio/retrieve_twiml/call_outgoing — a softphone calls an external number. The caller ID is the
 * calling identity's own registered number (looked up here, never taken from the client), and the
 * destination must pass the toll-fraud policy.
 */
import { checkDestination, phoneRulesWithTypes } from '../core/destination-policy';
import { describeError } from '../core/errors';
import { isValidClientName } from '../core/phone-rules';
import { dialNumberTwiml, sayAndHangupTwiml, temporarilyUnavailableTwiml } from '../core/twiml';
import { isDependencyFault } from '../ports';
import type { Handler, HandlerDeps } from './deps';
import { verifiedWebhook } from './webhook-common';

export const OUTGOING_MESSAGES = {
  unknownCaller: 'Sorry, this device is not allowed to make calls.',
  callerIdRefused: 'Sorry, the caller ID is not the number of this device.',
  noDestination: 'Sorry, no number to call was given.',
  invalidDestination: 'Sorry, the number you dialled is not a valid phone number.',
  premiumRate: 'Sorry, calls to premium rate numbers are not allowed.',
  sharedCost: 'Sorry, calls to shared cost numbers are not allowed.',
  numberType: 'Sorry, calls to this kind of number are not allowed.',
  countryNotAllowed: 'Sorry, calls to this country are not allowed.',
} as const;

export function createOutgoingCallHandler(deps: HandlerDeps): Handler<string> {
  const { devices, config } = deps;
  return async (event, { log }) => {
    try {
      const { params } = await verifiedWebhook(event, deps, log);
      const from = params.From ?? '';
      const identity = from.startsWith('client:') ? from.slice('client:'.length) : '';
      if (!isValidClientName(identity)) {
        log.warn('refused, From is not a client identity');
        return sayAndHangupTwiml(OUTGOING_MESSAGES.unknownCaller);
      }
      const device = await devices.findByClientName(identity);
      if (!device) {
        log.warn('refused, unknown identity', { identity });
        return sayAndHangupTwiml(OUTGOING_MESSAGES.unknownCaller);
      }
      const callerCountry = phoneRulesWithTypes.countryOf(device.phoneNumber);

      const claimed = (params.callerPhoneNumber ?? '').trim();
      if (claimed !== '') {
        let claimedE164: string | undefined;
        try {
          claimedE164 = phoneRulesWithTypes.normalize(claimed, callerCountry);
        } catch {
          claimedE164 = undefined;
        }
        if (claimedE164 !== device.phoneNumber) {
          log.warn('refused, caller ID is not the identity’s number', { identity });
          return sayAndHangupTwiml(OUTGOING_MESSAGES.callerIdRefused);
        }
      }

      const destination = (params.callOutgoingPhoneNumber ?? '').trim();
      if (destination === '') return sayAndHangupTwiml(OUTGOING_MESSAGES.noDestination);
      const decision = checkDestination(destination, callerCountry, config.allowedDestinationCountries);
      if (!decision.ok) {
        log.warn('refused destination', { identity, reason: decision.reason, country: decision.country });
        switch (decision.reason) {
          case 'premium-rate':
            return sayAndHangupTwiml(OUTGOING_MESSAGES.premiumRate);
          case 'shared-cost':
            return sayAndHangupTwiml(OUTGOING_MESSAGES.sharedCost);
          case 'number-type':
            return sayAndHangupTwiml(OUTGOING_MESSAGES.numberType);
          case 'country-not-allowed':
            return sayAndHangupTwiml(OUTGOING_MESSAGES.countryNotAllowed);
          default:
            return sayAndHangupTwiml(OUTGOING_MESSAGES.invalidDestination);
        }
      }
      log.info('dialling', { identity, callerId: device.phoneNumber, country: decision.country, callSid: params.CallSid });
      return dialNumberTwiml(device.phoneNumber, decision.e164);
    } catch (err) {
      if (isDependencyFault(err)) {
        log.error('dependency failure', { error: describeError(err) });
        return temporarilyUnavailableTwiml();
      }
      throw err;
    }
  };
}
