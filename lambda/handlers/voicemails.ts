/**
 * POST /softphone/voicemails — the signed-in device's line's voicemails (behind the page authorizer):
 * `{"action":"list"}`, `{"action":"play","id":"RE…"}` (a short-lived URL of the recording),
 * `{"action":"markHeard","id":"RE…"}`, `{"action":"delete","id":"RE…"}` (the recording too). A device sees only
 * its own line's messages: the line comes from the registry, never from the request.
 */
import { isRecordingSid } from '../core/call-log';
import { describeError } from '../core/errors';
import { pageError } from '../core/http-error';
import { PLAYBACK_URL_SECONDS } from '../core/settings';
import type { Voicemail } from '../ports';
import type { Handler, HandlerDeps } from './deps';
import { requireDeps } from './deps';
import { countDependencyFailure } from './dependency-failure';
import { callerDevice, parsePageEvent, unavailableOnPageFault } from './page-common';

export const VOICEMAIL_ACTIONS = ['list', 'play', 'markHeard', 'delete'] as const;
export type VoicemailAction = (typeof VOICEMAIL_ACTIONS)[number];

/** A voicemail as the page sees it (no storage keys). */
export interface VoicemailView {
  id: string;
  from: string;
  receivedAt: string;
  durationSeconds: number;
  heard: boolean;
}

export type VoicemailsResult =
  | { success: true; line: string; voicemails: VoicemailView[]; unheard: number }
  | { success: true; url: string; expiresAt: string }
  | { success: true };

const view = (v: Voicemail): VoicemailView => ({
  id: v.id,
  from: v.from,
  receivedAt: v.receivedAt,
  durationSeconds: v.durationSeconds,
  heard: v.heard,
});

export function createVoicemailsHandler(deps: HandlerDeps): Handler<VoicemailsResult> {
  const { voicemails, recordings, lines } = requireDeps(deps, 'voicemails', ['voicemails', 'recordings', 'lines']);
  const now = deps.clock ?? (() => new Date());
  return async (event, ctx) => {
    const { log, metrics } = ctx;
    const { identity, request } = parsePageEvent(event);
    const action = request.action;
    if (typeof action !== 'string' || !(VOICEMAIL_ACTIONS as readonly string[]).includes(action)) {
      throw pageError(400, `action must be one of ${VOICEMAIL_ACTIONS.join(', ')}.`);
    }
    const id = request.id;
    if (action !== 'list' && !isRecordingSid(id)) throw pageError(400, 'id must be a voicemail id (RE…).');
    return unavailableOnPageFault(ctx, async () => {
      const { phoneNumber: line } = await callerDevice(lines, identity);
      const nowSeconds = Math.floor(now().getTime() / 1000);
      switch (action as VoicemailAction) {
        case 'list': {
          const list = (await voicemails.list(line, nowSeconds)).map(view);
          return { success: true, line, voicemails: list, unheard: list.filter((v) => !v.heard).length };
        }
        case 'play': {
          const voicemail = await voicemails.get(line, id as string);
          if (!voicemail || voicemail.expiresAt <= nowSeconds) throw pageError(404, 'No such voicemail.');
          const url = await recordings.playbackUrl(voicemail.recordingKey, PLAYBACK_URL_SECONDS);
          return { success: true, url, expiresAt: new Date((nowSeconds + PLAYBACK_URL_SECONDS) * 1000).toISOString() };
        }
        case 'markHeard':
          if (!(await voicemails.markHeard(line, id as string))) throw pageError(404, 'No such voicemail.');
          return { success: true };
        case 'delete': {
          const removed = await voicemails.remove(line, id as string);
          if (!removed) throw pageError(404, 'No such voicemail.');
          log.info('voicemail deleted', { line, id, by: identity });
          try {
            await recordings.delete(removed.recordingKey);
          } catch (err) {
            // The lifecycle deletes it at the end of the retention anyway.
            log.warn('recording not deleted now', { line, id, error: describeError(err) });
            countDependencyFailure(metrics, err);
          }
          return { success: true };
        }
      }
    });
  };
}
