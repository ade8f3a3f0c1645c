/**
 * POST /twilio/call_status — Twilio's status callbacks of every call the softphone sees: each `<Dial>` leg our
 * TwiML makes (`<Client>`, `<Number>`, with `?leg=…&line=…` in the URL, signed with it) and the parent calls (the
 * numbers' and the TwiML App's status callback, set by `npm run twilio:setup`). Each becomes an event of its
 * call's record in the call log (lambda/core/call-log.ts), merged whatever the order they arrive in. When an
 * outgoing call ends, the places it held (MAX_CALLS_PER_DEVICE, MAX_CALLS_PER_LINE) are freed.
 *
 * Twilio ignores the body: a callback we cannot log (another account's call, a number without a line, hostile
 * parameters) is answered with an empty `<Response/>` and a log line; a failure of the log's store answers 500
 * (Twilio's debugger shows it).
 */
import { becameMissed, type CallFacts, isTerminalStatus, statusEventFromCallback } from '../core/call-log';
import { isE164 } from '../core/e164';
import { isValidClientName } from '../core/phone-rules';
import { emptyTwiml } from '../core/twiml';
import type { LineDirectory } from '../ports';
import { type Handler, type HandlerDeps, requireDeps } from './deps';
import { verifiedWebhook } from './webhook-common';

export function createCallStatusHandler(deps: HandlerDeps): Handler<string> {
  const { calls, lines, credentials } = requireDeps(deps, 'call status', ['calls', 'lines', 'credentials']);
  const signing = { config: deps.config, credentials };
  const now = deps.clock ?? (() => new Date());
  return async (event, ctx) => {
    const { log, metrics } = ctx;
    const { params, query } = await verifiedWebhook(event, signing, ctx);
    const { accountSid } = await credentials();
    if (params.AccountSid !== accountSid) {
      log.warn('call status for another account');
      return emptyTwiml();
    }
    // Only a parent call's callback (no leg in the URL, no parent of its own) needs its line looked up.
    const parentFacts = query.leg === undefined && params.ParentCallSid === undefined ? await parentCallFacts(params, lines) : {};
    const statusEvent = statusEventFromCallback(params, query, now().getTime(), parentFacts);
    if (!statusEvent?.line) {
      log.warn('call status not logged: not a call of ours', { callSid: params.CallSid, status: params.CallStatus, leg: query.leg });
      return emptyTwiml();
    }
    const { before, after: record } = await calls.merge(statusEvent);
    log.info('call status', { callSid: statusEvent.callSid, leg: statusEvent.role, status: statusEvent.status, line: statusEvent.line });
    if (becameMissed(before, record)) metrics.count('missedCall');
    // An outgoing call is over when its parent call or its dialled leg ends (the `<Dial>` is its last verb).
    const outgoing = statusEvent.role === 'callee' || (statusEvent.role === 'caller' && record.placedBy !== undefined);
    if (outgoing && isTerminalStatus(statusEvent.status) && record.line) await calls.releaseSlots(record.line, statusEvent.callSid);
    return emptyTwiml();
  };
}

/**
 * The line of a parent call, from the registry: a softphone's call (From `client:<name>`, the TwiML App's
 * callback) belongs to the device's line; a call to a line's number (the number's callback) to that line.
 */
async function parentCallFacts(params: Record<string, string>, lines: LineDirectory): Promise<CallFacts> {
  const from = params.From ?? '';
  if (from.startsWith('client:')) {
    const name = from.slice('client:'.length);
    const device = isValidClientName(name) ? await lines.findByClientName(name) : undefined;
    return device ? { line: device.phoneNumber, placedBy: name } : {};
  }
  const to = params.To ?? '';
  if (!isE164(to) || !(await lines.findLine(to))) return {};
  return { line: to, direction: 'incoming', ...(from !== '' && from.length <= 128 ? { remote: from } : {}) };
}
