/**
 * The error convention between the Lambdas and API Gateway: a handler fails by throwing an Error whose
 * message is `[<status>] <body>`; the integration responses select on `^\[<status>\] .*` and answer
 * `errorMessage.substring(6)`.
 */

export type TokenErrorStatus = 400 | 403 | 429 | 503;

export interface TokenErrorBody {
  success: false;
  capabilityToken: null;
  error: string;
  retryAfterSeconds?: number;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`[${status}] ${body}`);
    this.name = 'HttpError';
  }
}

/** A token API failure: `[status] {"success":false,"capabilityToken":null,"error":"…"}`. */
export function tokenError(status: TokenErrorStatus, error: string, extra?: { retryAfterSeconds?: number }): HttpError {
  const body: TokenErrorBody = { success: false, capabilityToken: null, error };
  if (extra?.retryAfterSeconds !== undefined) body.retryAfterSeconds = extra.retryAfterSeconds;
  return new HttpError(status, JSON.stringify(body));
}

export type PageErrorStatus = 400 | 403 | 404 | 503;

/** A page API failure (voicemails, directory): `[status] {"success":false,"error":"…"}`. */
export function pageError(status: PageErrorStatus, error: string): HttpError {
  return new HttpError(status, JSON.stringify({ success: false, error }));
}

/** The TwiML handlers' refusal of a missing or wrong signature: `[403] Forbidden`. */
export function forbidden(): HttpError {
  return new HttpError(403, 'Forbidden');
}

/** Parses `[status] body` back (tests, the local app). */
export function parseHttpErrorMessage(message: string): { status: number; body: string } | undefined {
  const m = /^\[(\d{3})\] ([\s\S]*)$/.exec(message);
  return m ? { status: Number(m[1]), body: m[2] } : undefined;
}
