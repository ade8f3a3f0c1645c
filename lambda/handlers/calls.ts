/**
 * POST /softphone/calls — the signed-in device's line's call log (behind the page authorizer):
 * `{"action":"list","limit":20,"cursor":"…"}` pages the line's calls newest first, with how many missed calls
 * the device has not seen (since its mark, whatever the page); `{"action":"markSeen","until":"<ISO-8601>"}` moves the device's "seen" mark forward
 * (never back, never past now). A device sees only its own line's calls: the line comes from the registry.
 */
import { type CallView, callView, isMissedRecord } from '../core/call-log';
import { pageError } from '../core/http-error';
import { BadCursorError } from '../ports';
import type { Handler, HandlerDeps } from './deps';
import { requireDeps } from './deps';
import { callerDevice, parsePageEvent, unavailableOnPageFault } from './page-common';

export const CALLS_ACTIONS = ['list', 'markSeen'] as const;
export const CALLS_PAGE = { default: 20, max: 50 } as const;
/** The most calls looked at to count the unseen missed ones (the badge shows "99+" beyond what matters). */
const UNSEEN_SCAN = 100;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

export type CallsResult =
  | { success: true; line: string; calls: CallView[]; cursor?: string; seenUntil?: string; unseenMissed: number }
  | { success: true; seenUntil: string };

export function createCallsHandler(deps: HandlerDeps): Handler<CallsResult> {
  const { calls, lines } = requireDeps(deps, 'calls', ['calls', 'lines']);
  const now = deps.clock ?? (() => new Date());
  return async (event, ctx) => {
    const { identity, request } = parsePageEvent(event);
    const { action, limit = CALLS_PAGE.default, cursor, until } = request;
    if (typeof action !== 'string' || !(CALLS_ACTIONS as readonly string[]).includes(action)) {
      throw pageError(400, `action must be one of ${CALLS_ACTIONS.join(', ')}.`);
    }
    if (action === 'list') {
      if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > CALLS_PAGE.max)
        throw pageError(400, `limit must be a whole number from 1 to ${CALLS_PAGE.max}.`);
      if (cursor !== undefined && typeof cursor !== 'string') throw pageError(400, 'cursor must be the cursor of the previous page.');
    } else if (typeof until !== 'string' || !ISO_INSTANT.test(until) || Number.isNaN(Date.parse(until))) {
      throw pageError(400, 'until must be an ISO-8601 UTC time like 2026-01-31T09:00:00.000Z.');
    }
    return unavailableOnPageFault(ctx, async () => {
      const { phoneNumber: line } = await callerDevice(lines, identity);
      if (action === 'markSeen') {
        // Never past now: a mark in the future would hide calls that have not happened yet.
        const seenUntil = new Date(Math.min(Date.parse(until as string), now().getTime())).toISOString();
        await calls.markSeen(identity, seenUntil);
        return { success: true, seenUntil };
      }
      let page: Awaited<ReturnType<typeof calls.list>>;
      try {
        page = await calls.list(line, { limit: limit as number, ...(cursor !== undefined ? { cursor: cursor as string } : {}) });
      } catch (err) {
        if (err instanceof BadCursorError) throw pageError(400, 'cursor must be the cursor of the previous page.');
        throw err;
      }
      const seenUntil = await calls.seenUntil(identity);
      const views = page.calls.map(callView);
      // Counted over the calls since the mark (not only this page), up to UNSEEN_SCAN of them.
      // (with no mark, a first page that is the whole log needs no second read)
      const wholeLog = seenUntil === undefined && cursor === undefined && !page.cursor;
      const unseen = wholeLog ? page : await calls.list(line, { limit: UNSEEN_SCAN, ...(seenUntil ? { since: seenUntil } : {}) });
      // (the mark is always written by toISOString, so comparing instants is comparing the view's startedAt)
      const seenUntilMs = seenUntil === undefined ? undefined : Date.parse(seenUntil);
      const unseenMissed = unseen.calls.filter((r) => isMissedRecord(r) && (seenUntilMs === undefined || r.firstAt > seenUntilMs)).length;
      return {
        success: true,
        line,
        calls: views,
        unseenMissed,
        ...(page.cursor ? { cursor: page.cursor } : {}),
        ...(seenUntil ? { seenUntil } : {}),
      };
    });
  };
}
