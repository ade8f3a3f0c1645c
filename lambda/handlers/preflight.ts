/**
 * POST /twilio/retrieve_twiml/preflight — the Voice URL of the second TwiML App, "Test my setup" (made by
 * `npm run twilio:setup`), which the softphone's `Device.runPreflight` calls with a preflight token (the token
 * API's `purpose: "preflight"`). The call is answered with a few words and a pause long enough for the test, then
 * hung up (lambda/core/twiml.ts `preflightTwiml`: nothing is recorded). Signed like every webhook; the caller must
 * be a registered device (From `client:<name>`), else it hears why and the call ends.
 */
import { isValidClientName } from '../core/phone-rules';
import { preflightTwiml, sayAndHangupTwiml } from '../core/twiml';
import { type Handler, type HandlerDeps, requireDeps } from './deps';
import { unavailableOnFault, verifiedWebhook } from './webhook-common';

export const PREFLIGHT_REFUSED_MESSAGE = 'Sorry, this device is not allowed to test its connection.';

export function createPreflightHandler(deps: HandlerDeps): Handler<string> {
  const { lines, credentials } = requireDeps(deps, 'preflight', ['lines', 'credentials']);
  const signing = { config: deps.config, credentials };
  return (event, ctx) =>
    unavailableOnFault(ctx, async () => {
      const { log } = ctx;
      const { params } = await verifiedWebhook(event, signing, ctx);
      const from = params.From ?? '';
      const identity = from.startsWith('client:') ? from.slice('client:'.length) : '';
      if (!isValidClientName(identity)) {
        log.warn('preflight refused, From is not a client identity');
        return sayAndHangupTwiml(PREFLIGHT_REFUSED_MESSAGE);
      }
      if (!(await lines.findByClientName(identity))) {
        log.warn('preflight refused, unknown identity', { identity });
        return sayAndHangupTwiml(PREFLIGHT_REFUSED_MESSAGE);
      }
      log.info('preflight test call', { identity, callSid: params.CallSid });
      return preflightTwiml();
    });
}
