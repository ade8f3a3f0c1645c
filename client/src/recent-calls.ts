/** The last calls, kept in localStorage (newest first), and the remembered device credentials. */
import type { CallDirection } from './voice/types';
import type { Credentials } from './token-client';

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export type CallOutcome = 'answered' | 'missed' | 'rejected' | 'failed' | 'unanswered';

export interface RecentCall {
  direction: CallDirection;
  number: string;
  /** ISO-8601 time the call started (dialled or rang). */
  at: string;
  /** Seconds connected; 0 when never connected. */
  durationSeconds: number;
  outcome: CallOutcome;
}

export const RECENT_LIMIT = 20;
export const RECENT_KEY = 'softphone.recentCalls';
export const CREDENTIALS_KEY = 'softphone.device';

function isRecentCall(v: unknown): v is RecentCall {
  const r = v as RecentCall;
  return (
    !!r &&
    (r.direction === 'incoming' || r.direction === 'outgoing') &&
    typeof r.number === 'string' &&
    typeof r.at === 'string' &&
    typeof r.durationSeconds === 'number' &&
    typeof r.outcome === 'string'
  );
}

export class RecentCallsStore {
  constructor(
    private readonly storage: KeyValueStorage,
    private readonly limit = RECENT_LIMIT,
  ) {}

  list(): RecentCall[] {
    try {
      const parsed: unknown = JSON.parse(this.storage.getItem(RECENT_KEY) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter(isRecentCall).slice(0, this.limit) : [];
    } catch {
      return [];
    }
  }

  add(call: RecentCall): RecentCall[] {
    const next = [call, ...this.list()].slice(0, this.limit);
    try {
      this.storage.setItem(RECENT_KEY, JSON.stringify(next));
    } catch {
      // storage full or blocked: keep going without history
    }
    return next;
  }

  clear(): void {
    this.storage.removeItem(RECENT_KEY);
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
