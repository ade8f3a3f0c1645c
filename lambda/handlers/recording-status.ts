/**
 * POST /twilio/recording_status — Twilio's recording status callback of a voicemail (`<Record
 * recordingStatusCallback>`): the message is fetched from Twilio with the API key, kept encrypted in the
 * recordings store (S3; locally the registry directory), recorded on its line, announced, and only then
 * deleted from Twilio. Twilio ignores the answer's body; a failure to keep the message answers 500 (Twilio's
 * debugger shows it) and leaves Twilio's copy in place, so nothing is lost.
 */
import { isCallSid, isRecordingSid } from '../core/call-log';
import { describeError } from '../core/errors';
import { dependencyOf } from '../core/metrics';
import { emptyTwiml } from '../core/twiml';
import type { Voicemail } from '../ports';
import type { Handler, HandlerDeps } from './deps';
import { requireDeps } from './deps';
import { countDependencyFailure } from './dependency-failure';
import { verifiedWebhook } from './webhook-common';

const SECONDS_PER_DAY = 86_400;

/** Where a voicemail's audio is kept: one prefix per line, the RecordingSid as the name. */
export function recordingKey(line: string, recordingSid: string): string {
  return `voicemail/${line.replace(/^\+/, '')}/${recordingSid}.mp3`;
}

export function createRecordingStatusHandler(deps: HandlerDeps): Handler<string> {
  const { voicemails, recordings, twilioRecordings, notifier, lines, credentials } = requireDeps(deps, 'recording status', [
    'lines',
    'credentials',
    'voicemails',
    'recordings',
    'twilioRecordings',
    'notifier',
  ]);
  const signing = { config: deps.config, credentials };
  const now = deps.clock ?? (() => new Date());
  return async (event, ctx) => {
    const { log, metrics } = ctx;
    /** Deletes Twilio's copy; a failure leaves it there (the message is ours already) and says so. */
    const deleteTwilioCopy = async (accountSid: string, sid: string): Promise<void> => {
      try {
        await twilioRecordings.delete(accountSid, sid);
      } catch (err) {
        log.warn('Twilio’s copy of the recording was not deleted', { recordingSid: sid, error: describeError(err) });
        countDependencyFailure(metrics, err, dependencyOf(err) ?? 'Twilio');
      }
    };
    const verified = await verifiedWebhook(event, signing, ctx);
    const { params } = verified;
    const { line = '', caller = '' } = verified.query;
    const sid = params.RecordingSid ?? '';
    if (params.RecordingStatus !== 'completed') {
      log.warn('recording not completed', { line, recordingSid: sid, status: params.RecordingStatus });
      return emptyTwiml();
    }
    const { accountSid } = await credentials();
    if (!isRecordingSid(sid) || params.AccountSid !== accountSid) {
      log.warn('recording callback for another account or without a RecordingSid', { line });
      return emptyTwiml();
    }
    if (!(await lines.findLine(line))) {
      log.warn('recording for a number without a line: left at Twilio', { line, recordingSid: sid });
      return emptyTwiml();
    }
    if (await voicemails.get(line, sid)) {
      // A repeated callback: the message is kept; Twilio's copy may have outlived a failed delete, so delete again.
      log.info('recording already kept (a repeated callback)', { line, recordingSid: sid });
      await deleteTwilioCopy(accountSid, sid);
      return emptyTwiml();
    }
    const received = now();
    const key = recordingKey(line, sid);
    try {
      const { audio, contentType } = await twilioRecordings.download(accountSid, sid);
      await recordings.put(key, audio, contentType);
    } catch (err) {
      log.error('voicemail not kept: the recording stays at Twilio', { line, recordingSid: sid, error: describeError(err) });
      countDependencyFailure(metrics, err);
      throw new Error(`voicemail ${sid} not kept`);
    }
    const voicemail: Voicemail = {
      line,
      id: sid,
      from: caller,
      callSid: params.CallSid ?? '',
      durationSeconds: Number.parseInt(params.RecordingDuration ?? '0', 10) || 0,
      recordingKey: key,
      heard: false,
      receivedAt: received.toISOString(),
      expiresAt: Math.floor(received.getTime() / 1000) + deps.config.voicemailRetentionDays * SECONDS_PER_DAY,
    };
    if (await voicemails.add(voicemail)) {
      log.info('voicemail kept', { line, recordingSid: sid, durationSeconds: voicemail.durationSeconds });
      metrics.count('voicemail');
      if (!(await notifier.newVoicemail(voicemail, log))) countDependencyFailure(metrics, undefined, 'SNS');
    }
    if (deps.calls && isCallSid(voicemail.callSid)) {
      // The call log shows the call as a voicemail (best effort: the message is kept either way).
      await deps.calls
        .apply({
          kind: 'voicemail',
          callSid: voicemail.callSid,
          at: received.getTime(),
          line,
          direction: 'incoming',
          ...(caller ? { remote: caller } : {}),
        })
        .catch((err) => {
          log.error('voicemail not noted in the call log', { callSid: voicemail.callSid, error: describeError(err) });
          countDependencyFailure(metrics, err);
        });
    }
    await deleteTwilioCopy(accountSid, sid);
    return emptyTwiml();
  };
}
