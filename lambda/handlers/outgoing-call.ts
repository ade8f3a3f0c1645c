/**
 * POST /twilio/retrieve_twiml/call_outgoing — a softphone calls an external number, or a teammate. The caller ID
 * is the calling identity's line's number (looked up here, never taken from the client), and the destination
 * must pass the toll-fraud policy. An internal call (`callOutgoingClient`, a client name) reaches only a member
 * of the caller's own line. A device may have MAX_CALLS_PER_DEVICE calls at once and its line MAX_CALLS_PER_LINE
 * (places in the call log, freed by the call's completion callback): a stolen secret cannot place calls in
 * parallel. Each dialled leg reports its progress to the call log; a refused call is logged with its reason.
 */
import { type CallDirection, dialLegQuery, isCallSid } from '../core/call-log';
import { checkDestination, phoneRulesWithTypes, type DestinationRefusal } from '../core/destination-policy';
import { EMERGENCY_REFUSAL } from '../core/emergency';
import { describeError } from '../core/errors';
import type { CALL_REFUSAL_REASONS } from '../core/metrics';
import { API_PATHS } from '../core/paths';
import { isValidClientName } from '../core/phone-rules';
import { dialNumberTwiml, dialTeammateTwiml, sayAndHangupTwiml } from '../core/twiml';
import { apiBaseUrl, webhookUrl } from '../core/webhook';
import type { Device, Log } from '../ports';
import type { Handler, HandlerDeps } from './deps';
import { requireDeps } from './deps';
import { countDependencyFailure } from './dependency-failure';
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
  deviceBusy: 'Sorry, this device already has as many calls in progress as it may. Please end one first.',
  lineBusy: 'Sorry, your team line already has as many calls in progress as it may. Please try again later.',
} as const;

type CallRefusalReason = (typeof CALL_REFUSAL_REASONS)[number];

/** How long a call's place is held when its completion callback never comes: the longest call, and its ringing. */
const HOLD_MARGIN_SECONDS = 120;

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
  const { config } = deps;
  const { lines, calls, credentials } = requireDeps(deps, 'outgoing call', ['lines', 'calls', 'credentials']);
  const signing = { config: deps.config, credentials };
  const now = deps.clock ?? (() => new Date());
  return (event, ctx) =>
    unavailableOnFault(ctx, async () => {
      const { log, metrics } = ctx;
      const verified = await verifiedWebhook(event, signing, ctx);
      const { params } = verified;
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
      const callSid = params.CallSid ?? '';
      const line = device.phoneNumber;
      /** Counts the refusal (CallsRefused by Reason), logs it on the call (best effort: the caller hears why either way) and says why. */
      const refuse = async (reason: CallRefusalReason, message: string, direction: CallDirection, remote?: string): Promise<string> => {
        metrics.count('callRefused', reason);
        if (isCallSid(callSid)) {
          const at = now().getTime();
          await calls
            .apply({ kind: 'refused', callSid, at, line, direction, placedBy: identity, reason, ...(remote ? { remote } : {}) })
            .catch((err) => {
              log.error('refusal not logged', { callSid, error: describeError(err) });
              countDependencyFailure(metrics, err);
            });
        }
        return sayAndHangupTwiml(message);
      };
      const statusUrl = webhookUrl(apiBaseUrl(verified, config), API_PATHS.callStatus, dialLegQuery('callee', { line, client: identity }));

      const teammate = (params.callOutgoingClient ?? '').trim();
      if (teammate !== '') {
        const member = isValidClientName(teammate) && teammate !== identity ? await lines.findByClientName(teammate) : undefined;
        if (!member || member.phoneNumber !== line) {
          log.warn('refused internal call, not a teammate', { identity });
          return refuse('not-a-teammate', OUTGOING_MESSAGES.notATeammate, 'internal');
        }
        const busy = await claimPlace(device, callSid, log);
        if (busy) return refuse('limit', busy, 'internal', `client:${teammate}`);
        log.info('dialling teammate', { identity, teammate, line, callSid });
        return dialTeammateTwiml(identity, line, teammate, config.callTimeLimitSeconds, statusUrl);
      }
      const callerCountry = phoneRulesWithTypes.countryOf(line);

      const claimed = (params.callerPhoneNumber ?? '').trim();
      if (claimed !== '') {
        let claimedE164: string | undefined;
        try {
          claimedE164 = phoneRulesWithTypes.normalize(claimed, callerCountry);
        } catch {
          claimedE164 = undefined;
        }
        if (claimedE164 !== line) {
          log.warn('refused, caller ID is not the identity’s number', { identity });
          return refuse('caller-id', OUTGOING_MESSAGES.callerIdRefused, 'outgoing');
        }
      }

      const destination = (params.callOutgoingPhoneNumber ?? '').trim();
      if (destination === '') return refuse('no-destination', OUTGOING_MESSAGES.noDestination, 'outgoing');
      const decision = checkDestination(destination, callerCountry, config.allowedDestinationCountries);
      if (!decision.ok) {
        log.warn('refused destination', { identity, reason: decision.reason, country: decision.country });
        return refuse(decision.reason, DESTINATION_REFUSALS[decision.reason], 'outgoing');
      }
      const busy = await claimPlace(device, callSid, log);
      if (busy) return refuse('limit', busy, 'outgoing', decision.e164);
      log.info('dialling', { identity, callerId: line, country: decision.country, callSid });
      return dialNumberTwiml(line, decision.e164, config.callTimeLimitSeconds, statusUrl);
    });

  /** Takes a place for the call on the device and its line; undefined when it has one, else what to say. */
  async function claimPlace(device: Device, callSid: string, log: Log): Promise<string | undefined> {
    // Twilio names every call it sends (signed requests only reach here): without a name there is nothing to hold.
    if (!isCallSid(callSid)) {
      log.warn('no CallSid: the call holds no place', { identity: device.clientName });
      return undefined;
    }
    const claim = await calls.claimSlots({
      line: device.phoneNumber,
      clientName: device.clientName,
      callSid,
      perDevice: config.maxCallsPerDevice,
      perLine: config.maxCallsPerLine,
      nowSeconds: Math.floor(now().getTime() / 1000),
      holdSeconds: config.callTimeLimitSeconds + HOLD_MARGIN_SECONDS,
    });
    if (claim === 'ok') return undefined;
    log.warn('refused, too many calls at once', { identity: device.clientName, line: device.phoneNumber, limit: claim });
    return claim === 'device-busy' ? OUTGOING_MESSAGES.deviceBusy : OUTGOING_MESSAGES.lineBusy;
  }
}
