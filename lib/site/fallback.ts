/**
 * The fallback TwiML: a static file on the softphone's site that Twilio fetches (GET) when a webhook fails or
 * is throttled, so a caller hears "try again later" instead of Twilio's generic application error.
 * `npm run twilio:setup` sets it as each number's and the TwiML App's voice fallback URL; `doctor` checks it.
 */
import { sayAndHangupTwiml } from '../../lambda/core/twiml';
import { siteFileUrl } from './urls';

/** Where the site serves it. */
export const FALLBACK_TWIML_FILE = 'fallback.xml';

export const FALLBACK_MESSAGE = 'Sorry, we cannot take your call right now. Please try again later.';

/** The document (written into the site by client/build.ts). */
export function fallbackTwiml(): string {
  return sayAndHangupTwiml(FALLBACK_MESSAGE);
}

/** Its URL on a site (`SoftphoneUrl`). */
export function fallbackTwimlUrl(siteUrl: string): string {
  return siteFileUrl(siteUrl, FALLBACK_TWIML_FILE);
}
