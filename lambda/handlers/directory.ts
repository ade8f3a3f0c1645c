/**
 * POST /softphone/directory — the signed-in device's line and its teammates (behind the page authorizer): who
 * can be called internally, and what the line does with calls nobody answers.
 */
import { pageError } from '../core/http-error';
import { type Handler, type HandlerDeps, requireDeps } from './deps';
import { callerDevice, parsePageEvent, unavailableOnPageFault } from './page-common';

export interface DirectoryResult {
  success: true;
  you: string;
  line: { number: string; voicemail: boolean; forwarding: boolean; hours?: string; timeZone?: string };
  members: { clientName: string; label?: string }[];
}

export function createDirectoryHandler(deps: HandlerDeps): Handler<DirectoryResult> {
  const { lines } = requireDeps(deps, 'directory', ['lines']);
  return async (event, ctx) => {
    const { identity } = parsePageEvent(event);
    return unavailableOnPageFault(ctx, async () => {
      const device = await callerDevice(lines, identity);
      const line = await lines.findLine(device.phoneNumber);
      if (!line) throw pageError(403, 'This device is no longer registered. Ask your administrator.');
      const { settings } = line;
      return {
        success: true,
        you: identity,
        line: {
          number: line.number,
          voicemail: settings.voicemail,
          forwarding: settings.forwardTo !== undefined,
          ...(settings.hours && settings.timeZone ? { hours: settings.hours, timeZone: settings.timeZone } : {}),
        },
        members: line.members.map((m) => ({ clientName: m.clientName, ...(m.label ? { label: m.label } : {}) })),
      };
    });
  };
}
