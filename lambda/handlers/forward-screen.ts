/**
 * POST /twilio/retrieve_twiml/forward_screen — the forwarded person's side of a forwarded call (`<Number url>`),
 * before the caller is connected: a prompt to press 1 (stage `prompt`), then the answer (stage `answer`). Only
 * a 1 connects, so a mobile's own voicemail answering cannot swallow the call: the `<Dial>` then ends
 * unbridged and the caller goes on to the line's voicemail.
 */
import { describeError } from '../core/errors';
import { DEFAULT_LINE_SETTINGS } from '../core/line';
import { API_PATHS } from '../core/paths';
import { sayAndHangupTwiml, screenPromptTwiml, screenResultTwiml } from '../core/twiml';
import { apiBaseUrl, webhookUrl } from '../core/webhook';
import { isDependencyFault } from '../ports';
import { countDependencyFailure } from './dependency-failure';
import { type Handler, type HandlerDeps, requireDeps } from './deps';
import { unavailableOnFault, verifiedWebhook } from './webhook-common';

export function createForwardScreenHandler(deps: HandlerDeps): Handler<string> {
  const { config } = deps;
  const { lines, credentials } = requireDeps(deps, 'forward screen', ['lines', 'credentials']);
  const signing = { config: deps.config, credentials };
  return (event, ctx) =>
    unavailableOnFault(ctx, async () => {
      const { log, metrics } = ctx;
      const verified = await verifiedWebhook(event, signing, ctx);
      const { stage, line = '', caller = '' } = verified.query;
      let language = DEFAULT_LINE_SETTINGS.language;
      try {
        language = (await lines.findLine(line))?.settings.language ?? language;
      } catch (err) {
        // The prompt still works in the default language: never lose the call over a setting.
        if (!isDependencyFault(err)) throw err;
        log.error('dependency failure, prompting in the default language', { error: describeError(err) });
        countDependencyFailure(metrics, err);
      }
      if (stage === 'prompt') {
        const acceptUrl = webhookUrl(apiBaseUrl(verified, config), API_PATHS.forwardScreen, { stage: 'answer', line });
        return screenPromptTwiml(line, caller, language, acceptUrl);
      }
      if (stage === 'answer') {
        const digits = verified.params.Digits ?? '';
        log.info('forward screened', { line, accepted: digits === '1', callSid: verified.params.CallSid });
        return screenResultTwiml(digits, language);
      }
      log.warn('forward screen without a stage', { stage });
      return sayAndHangupTwiml('Sorry, this call cannot be connected.');
    });
}
