/** Minimal E.164 handling for the ops CLIs: accepts `+81-50-3123-4567`, `+1 (415) 555-0100`, `+815031234567`. */
export function toE164(input: string): string {
  const compact = input.trim().replace(/[\s\-().]/g, '');
  if (!/^\+[1-9]\d{6,14}$/.test(compact)) {
    throw new Error(`"${input}" is not a phone number in international format (e.g. +815031234567)`);
  }
  return compact;
}

/** The default Twilio Client identity for a number registered by `twilio:setup`: `softphone-<digits>`. */
export function defaultClientName(e164: string): string {
  return `softphone-${e164.replace(/\D/g, '')}`;
}
