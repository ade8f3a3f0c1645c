/**
 * POST /twilio/retrieve_twiml/call_outgoing — a softphone calls an external number, or a teammate. The caller ID
 * is the calling identity's line's number (looked up here, never taken from the client), and the destination
 * must pass the toll-fraud policy. An internal call (`callOutgoingClient`, a client name) reaches only a member
 * of the caller's own line.
 */
import { checkDestination, phoneRulesWithTypes, type DestinationRefusal } from '../core/destination-policy';
import { EMERGENCY_REFUSAL } from '../core/emergency';
import { isValidClientName } from '../core/phone-rules';
import { dialNumberTwiml, dialTeammateTwiml, sayAndHangupTwiml } from '../core/twiml';
import type { Handler, HandlerDeps } from './deps';
import { unavailableOnFault, verifiedWebhook } from './webhook-common';

export const OUTGOING_MESSAGES = {
  unknownCaller: 'Sorry, this device is not allowed to make calls.',
  callerIdRefused: 'Sorry, the caller ID is not the number of this device.',
  noDestination: 'Sorry, no number to call was given.',
  invalidDestination: 'Sorry, the number you dialled is not a valid phone number.',
  premiumRate: 'Sorry, calls to premium rate numbers are not allowed.',
  sharedCost: 'Sorry, calls to shared cost numbers are not allowed.',
  specialRate: 'Sorry, calls to special rate numbers are not allowed.',
  emergency: EMERGENCY_REFUSAL,
  numberType: 'Sorry, calls to this kind of number are not allowed.',
  countryNotAllowed: 'Sorry, calls to this country are not allowed.',
  notATeammate: 'Sorry, that person is not on your team line.',
} as const;

/** What the caller hears for each reason the destination policy refuses a number. */
const DESTINATION_REFUSALS: Record<DestinationRefusal, string> = {
  emergency: OUTGOING_MESSAGES.emergency,
  unparsable: OUTGOING_MESSAGES.invalidDestination,
  invalid: OUTGOING_MESSAGES.invalidDestination,
  'premium-rate': OUTGOING_MESSAGES.premiumRate,
  'shared-cost': OUTGOING_MESSAGES.sharedCost,
  'special-rate': OUTGOING_MESSAGES.specialRate,
  'number-type': OUTGOING_MESSAGES.numberType,
  'country-not-allowed': OUTGOING_MESSAGES.countryNotAllowed,
};

export function createOutgoingCallHandler(deps: HandlerDeps): Handler<string> {
  const { lines, config } = deps;
  return (event, { log }) =>
    unavailableOnFault(log, async () => {
      const { params } = await verifiedWebhook(event, deps, log);
      const from = params.From ?? '';
      const identity = from.startsWith('client:') ? from.slice('client:'.length) : '';
      if (!isValidClientName(identity)) {
        log.warn('refused, From is not a client identity');
        return sayAndHangupTwiml(OUTGOING_MESSAGES.unknownCaller);
      }
      const device = await lines.findByClientName(identity);
      if (!device) {
        log.warn('refused, unknown identity', { identity });
        return sayAndHangupTwiml(OUTGOING_MESSAGES.unknownCaller);
      }
      const teammate = (params.callOutgoingClient ?? '').trim();
      if (teammate !== '') {
        const member = isValidClientName(teammate) && teammate !== identity ? await lines.findByClientName(teammate) : undefined;
        if (!member || member.phoneNumber !== device.phoneNumber) {
          log.warn('refused internal call, not a teammate', { identity });
          return sayAndHangupTwiml(OUTGOING_MESSAGES.notATeammate);
        }
        log.info('dialling teammate', { identity, teammate, line: device.phoneNumber, callSid: params.CallSid });
        return dialTeammateTwiml(identity, device.phoneNumber, teammate, config.callTimeLimitSeconds);
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
        return sayAndHangupTwiml(DESTINATION_REFUSALS[decision.reason]);
      }
      log.info('dialling', { identity, callerId: device.phoneNumber, country: decision.country, callSid: params.CallSid });
      return dialNumberTwiml(device.phoneNumber, decision.e164, config.callTimeLimitSeconds);
    });
}
