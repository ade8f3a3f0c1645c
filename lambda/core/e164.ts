/**
 * Twilio's webhooks give phone numbers in E.164 already, so the incoming-call path checks that form exactly
 * instead of parsing (which would put libphonenumber-js and its metadata into the bundle Twilio waits on
 * while the caller hears nothing). Registry keys are E.164 written by `normalizePhoneNumber`.
 */
const E164 = /^\+[1-9][0-9]{1,14}$/;

export function isE164(value: unknown): value is string {
  return typeof value === 'string' && E164.test(value);
}
