/** The token API client: `POST ${apiBaseUrl}/twilio/retrieve_capability_token` (see docs/api.md). */
import { isValidClientName } from '../../lambda/core/phone-rules';

export interface Credentials {
  /** The user's Twilio number as typed, e.g. `+81-50-3123-4567`. */
  twilioPhoneNumber: string;
  deviceSecret: string;
}

export interface TokenGrant {
  token: string;
  identity: string;
  /** The device's line (E.164): its caller ID; the API answers it since lines have several devices. */
  line?: string;
  expiresAt?: string;
  /** `preflight` for a "Test my setup" token (asked for with `purpose: 'preflight'`). */
  purpose?: TokenPurpose;
}

/**
 * What the token is for: signing in (the default: the phone's TwiML App, the token's full lifetime), or
 * `preflight`: a 60-second token for the echo TwiML App of "Test my setup" (`Device.runPreflight`).
 */
export type TokenPurpose = 'preflight';

/** What a token request may add to the credentials. */
export interface TokenRequestOptions {
  /**
   * The identity this browser last signed in as with this number: the API checks that device's secret first
   * (a line has several devices, each with its own secret). Only a hint: a wrong one costs time, not access.
   */
  clientName?: string;
  purpose?: TokenPurpose;
}

/** A Twilio Client identity as the API accepts one (the API's own rule). */
export function isClientName(value: unknown): value is string {
  return typeof value === 'string' && isValidClientName(value);
}

export type TokenErrorKind = 'refused' | 'rate-limited' | 'bad-request' | 'unavailable' | 'network' | 'server';

export class TokenError extends Error {
  constructor(
    readonly kind: TokenErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TokenError';
  }
  /** Refusals and bad input will not get better by retrying; the rest might. */
  get retryable(): boolean {
    return this.kind === 'network' || this.kind === 'unavailable' || this.kind === 'server' || this.kind === 'rate-limited';
  }
}

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<{
  status: number;
  ok: boolean;
  text(): Promise<string>;
}>;

const DEFAULT_MESSAGES: Record<TokenErrorKind, string> = {
  refused: 'Unknown phone number or wrong device secret.',
  'rate-limited': 'Too many sign-in attempts. Wait a few minutes, then try again.',
  'bad-request': 'The number or secret is not in the expected format.',
  unavailable: 'The phone service is temporarily unavailable. Trying again shortly.',
  network: 'Cannot reach the phone service. Check your network connection.',
  server: 'The phone service had a problem. Try again in a moment.',
};

const PURPOSE_UNSUPPORTED = 'The phone service does not offer Test my setup yet: it needs updating (npm run twilio:setup, then deploy).';

function kindFor(status: number): TokenErrorKind {
  if (status === 401 || status === 403) return 'refused';
  if (status === 429) return 'rate-limited';
  if (status === 400 || status === 415) return 'bad-request';
  if (status === 503) return 'unavailable';
  return 'server';
}

export function tokenUrl(apiBaseUrl: string): string {
  return `${apiBaseUrl.replace(/\/+$/, '')}/twilio/retrieve_capability_token`;
}

export async function fetchToken(apiBaseUrl: string, creds: Credentials, fetchFn: FetchLike, opts: TokenRequestOptions = {}): Promise<TokenGrant> {
  let res: Awaited<ReturnType<FetchLike>>;
  const hint = isClientName(opts.clientName) ? { clientName: opts.clientName } : {};
  const purpose = opts.purpose ? { purpose: opts.purpose } : {};
  try {
    res = await fetchFn(tokenUrl(apiBaseUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ twilioPhoneNumber: creds.twilioPhoneNumber, deviceSecret: creds.deviceSecret, ...hint, ...purpose }),
    });
  } catch {
    throw new TokenError('network', DEFAULT_MESSAGES.network);
  }
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(await res.text());
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: fall through to the status-based message
  }
  if (res.ok && body.success === true && typeof body.capabilityToken === 'string') {
    // An API that does not know `purpose` answers an ordinary token: a test call with it would reach the phone's
    // own TwiML App, not the echo test, so it is not used.
    if (opts.purpose && body.purpose !== opts.purpose) throw new TokenError('server', PURPOSE_UNSUPPORTED, res.status);
    return {
      token: body.capabilityToken,
      identity: typeof body.identity === 'string' ? body.identity : '',
      ...(typeof body.line === 'string' && body.line ? { line: body.line } : {}),
      expiresAt: typeof body.expiresAt === 'string' ? body.expiresAt : undefined,
      ...(opts.purpose ? { purpose: opts.purpose } : {}),
    };
  }
  const kind = res.ok ? 'server' : kindFor(res.status);
  // The API's own sentence is shown for refusals and bad input; other failures get ours. A preflight token's 503
  // says what is missing ("Test my setup is not configured: …"): that sentence is shown too.
  const serverMessage = typeof body.error === 'string' && body.error.trim() ? body.error.trim() : undefined;
  const own = kind === 'refused' || kind === 'bad-request' || kind === 'rate-limited' || (kind === 'unavailable' && opts.purpose !== undefined);
  const message = own && serverMessage ? serverMessage : DEFAULT_MESSAGES[kind];
  throw new TokenError(kind, message, res.status);
}
