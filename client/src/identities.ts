/**
 * Which device this browser signed in as, per line number: sent as the token request's `clientName` hint, so
 * the API checks that device's secret first (a line has several devices, each with its own secret). Only a
 * hint: a wrong or stale one costs the API a few more checks, never access. Kept in localStorage; it is not a
 * credential and stays after sign-out, so signing in again is as fast.
 */
import { toE164 } from './phone-format';
import type { KeyValueStorage } from './recent-calls';
import { isClientName, type Credentials, type TokenGrant, type TokenRequestOptions } from './token-client';

export const IDENTITIES_KEY = 'softphone.identities';
/** The most numbers remembered; the oldest entry goes first. */
export const IDENTITIES_LIMIT = 20;

/** The key a number is remembered under: its E.164 form, whatever way it was typed. */
function numberKey(number: string): string {
  return toE164(number) ?? number.trim();
}

export class RememberedIdentities {
  constructor(private readonly storage: KeyValueStorage) {}

  private read(): Array<[string, string]> {
    try {
      const parsed: unknown = JSON.parse(this.storage.getItem(IDENTITIES_KEY) ?? '[]');
      if (!Array.isArray(parsed)) return [];
      return parsed.filter((e): e is [string, string] => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && isClientName(e[1]));
    } catch {
      return [];
    }
  }

  /** The identity last signed in as with this number, if any. */
  get(number: string): string | undefined {
    const key = numberKey(number);
    return this.read().find(([n]) => n === key)?.[1];
  }

  remember(number: string, identity: string): void {
    if (!isClientName(identity)) return;
    const key = numberKey(number);
    const next: Array<[string, string]> = [[key, identity] as [string, string], ...this.read().filter(([n]) => n !== key)].slice(0, IDENTITIES_LIMIT);
    try {
      this.storage.setItem(IDENTITIES_KEY, JSON.stringify(next));
    } catch {
      // storage full or blocked: sign-in only gets slower
    }
  }
}

/**
 * A token source that sends the remembered identity for the number as the hint and remembers the identity
 * each grant names (under the line the API answered, else the number signed in with).
 */
export function withIdentityHint(
  fetchToken: (creds: Credentials, opts: TokenRequestOptions) => Promise<TokenGrant>,
  identities: RememberedIdentities,
): (creds: Credentials) => Promise<TokenGrant> {
  return async (creds) => {
    const grant = await fetchToken(creds, { clientName: identities.get(creds.twilioPhoneNumber) });
    identities.remember(creds.twilioPhoneNumber, grant.identity);
    if (grant.line && numberKey(grant.line) !== numberKey(creds.twilioPhoneNumber)) identities.remember(grant.line, grant.identity);
    return grant;
  };
}
