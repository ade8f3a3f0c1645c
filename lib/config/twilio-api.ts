/** Where Twilio's REST API is reached: Twilio itself, or `TWILIO_API_BASE_URL` (mocks and tests). */

/**
 * `TWILIO_API_BASE_URL`: where every Twilio REST call of the ops commands and of the local app (voicemail
 * recordings) goes instead of Twilio, for mocks and tests. Undefined when unset; throws when it is not an http(s) URL.
 */
export function twilioApiBaseUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = env.TWILIO_API_BASE_URL?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`TWILIO_API_BASE_URL must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`TWILIO_API_BASE_URL must be an http(s) URL, got "${raw}"`);
  return raw;
}
