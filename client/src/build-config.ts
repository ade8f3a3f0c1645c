/**
 * Constants `client/build.ts` sets at build time (esbuild `define`), with their defaults when not defined (unit
 * tests run the sources as they are).
 */
declare const SOFTPHONE_VOICEMAIL_POLL_MS: number | undefined;

/** How often the page asks for new voicemails while it is visible: 30 s; tests build with a shorter interval. */
export const VOICEMAIL_POLL_MS: number = typeof SOFTPHONE_VOICEMAIL_POLL_MS === 'number' ? SOFTPHONE_VOICEMAIL_POLL_MS : 30_000;
