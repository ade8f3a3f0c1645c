/**
 * What the page keeps in localStorage: this browser's copy of the line's Recent calls (`RecentCallsCache`, only a
 * cache of the server's call log, shown while the server cannot be asked; call-log.ts), and the remembered device
 * credentials.
 */
import { type CachedCallLog, type CallLogCache, CACHE_LIMIT, parseLoggedCall } from './call-log';
import type { Credentials } from './token-client';

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** How a call ended as this device saw it (the call state's outcome, call-state.ts). */
export type CallOutcome = 'answered' | 'missed' | 'rejected' | 'failed' | 'unanswered';

/** The copy of the line's call log. */
export const CALL_LOG_KEY = 'softphone.callLog';
/** Where the first release kept this browser's own list of calls: dropped, the server's log replaces it. */
export const LEGACY_RECENT_KEY = 'softphone.recentCalls';
export const CREDENTIALS_KEY = 'softphone.device';

/**
 * The copy of one line's call log (the last line signed in to), as the server last answered it. A corrupt or
 * foreign entry reads as no copy; a call in it that is not what the API gives is left out.
 */
export class RecentCallsCache implements CallLogCache {
  constructor(
    private readonly storage: KeyValueStorage,
    private readonly limit = CACHE_LIMIT,
  ) {
    try {
      storage.removeItem(LEGACY_RECENT_KEY);
    } catch {
      // blocked storage: nothing to drop
    }
  }

  load(line: string): CachedCallLog | undefined {
    try {
      const v = JSON.parse(this.storage.getItem(CALL_LOG_KEY) ?? 'null') as Record<string, unknown> | null;
      if (!v || typeof v !== 'object' || v.line !== line || !Array.isArray(v.calls)) return undefined;
      if (typeof v.savedAt !== 'number' || !Number.isFinite(v.savedAt)) return undefined;
      const calls = v.calls.flatMap((c: unknown) => {
        try {
          return c && typeof c === 'object' && !Array.isArray(c) ? [parseLoggedCall(c as Record<string, unknown>)] : [];
        } catch {
          return [];
        }
      });
      const unseenMissed = typeof v.unseenMissed === 'number' && v.unseenMissed >= 0 ? Math.round(v.unseenMissed) : 0;
      return {
        line,
        calls: calls.slice(0, this.limit),
        unseenMissed,
        savedAt: v.savedAt,
        ...(typeof v.seenUntil === 'string' ? { seenUntil: v.seenUntil } : {}),
      };
    } catch {
      return undefined;
    }
  }

  save(log: CachedCallLog): void {
    try {
      this.storage.setItem(CALL_LOG_KEY, JSON.stringify({ ...log, calls: log.calls.slice(0, this.limit) }));
    } catch {
      // storage full or blocked: the page works without the copy
    }
  }

  clear(): void {
    try {
      this.storage.removeItem(CALL_LOG_KEY);
    } catch {
      // blocked storage: nothing kept
    }
  }
}

export function loadCredentials(storage: KeyValueStorage): Credentials | undefined {
  try {
    const v = JSON.parse(storage.getItem(CREDENTIALS_KEY) ?? 'null') as Partial<Credentials> | null;
    if (v && typeof v.twilioPhoneNumber === 'string' && typeof v.deviceSecret === 'string') {
      return { twilioPhoneNumber: v.twilioPhoneNumber, deviceSecret: v.deviceSecret };
    }
  } catch {
    // ignore corrupt entries
  }
  return undefined;
}

export function saveCredentials(storage: KeyValueStorage, creds: Credentials): void {
  storage.setItem(CREDENTIALS_KEY, JSON.stringify(creds));
}

export function forgetCredentials(storage: KeyValueStorage): void {
  storage.removeItem(CREDENTIALS_KEY);
}
