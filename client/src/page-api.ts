/**
 * The page's own API (`POST {apiBaseUrl}/softphone/…`, docs/api.md): JSON in and out, authenticated with the
 * Twilio Access Token the page already holds (`Authorization: Bearer <token>`, checked by the API's page
 * authorizer). A 401 means the token expired or is no longer valid: the session fetches a fresh one through the
 * token API once and the request is retried; a second 401, or a refused refresh, asks the user to sign in again.
 */
import type { FetchLike } from './token-client';
import { TokenError } from './token-client';

export type PageApiErrorKind = 'unauthorized' | 'forbidden' | 'not-found' | 'bad-request' | 'unavailable' | 'network' | 'server';

export class PageApiError extends Error {
  constructor(
    readonly kind: PageApiErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PageApiError';
  }
}

/** The Access Token the page holds, and a way to get a fresh one (the token API, with the device's secret). */
export interface SessionToken {
  current(): string | undefined;
  /** A fresh token; throws (a TokenError) when the token API refuses or cannot be reached. */
  refresh(): Promise<string>;
}

export interface PageApiOptions {
  apiBaseUrl: () => string;
  fetch: FetchLike;
  session: SessionToken;
}

const SIGN_IN_AGAIN = 'Sign in again: your session is no longer valid.';
const MESSAGES: Record<PageApiErrorKind, string> = {
  unauthorized: SIGN_IN_AGAIN,
  forbidden: 'This device is not allowed to do that.',
  'not-found': 'That is no longer there.',
  'bad-request': 'The phone service did not understand the request.',
  unavailable: 'The phone service is temporarily unavailable. Try again in a moment.',
  network: 'Cannot reach the phone service. Check your network connection.',
  server: 'The phone service had a problem. Try again in a moment.',
};

function kindFor(status: number): PageApiErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 400 || status === 413 || status === 415) return 'bad-request';
  if (status === 429 || status === 503) return 'unavailable';
  return 'server';
}

export class PageApi {
  constructor(private readonly opts: PageApiOptions) {}

  url(path: string): string {
    return `${this.opts.apiBaseUrl().replace(/\/+$/, '')}${path}`;
  }

  /**
   * POSTs `body` to `path` and hands the success body to `parse` (which throws on an unexpected shape). Errors are
   * PageApiErrors with the API's own sentence when it gave one.
   */
  async post<T>(path: string, body: Record<string, unknown>, parse: (body: Record<string, unknown>) => T): Promise<T> {
    let token = this.opts.session.current() ?? (await this.refresh());
    let res = await this.send(path, body, token);
    if (res.status === 401) {
      token = await this.refresh();
      res = await this.send(path, body, token);
    }
    const json = await readJson(res);
    if (res.ok && json?.success === true) {
      try {
        return parse(json);
      } catch (err) {
        throw new PageApiError('server', `${MESSAGES.server} (${(err as Error).message})`, res.status);
      }
    }
    const kind = res.ok ? 'server' : kindFor(res.status);
    const said = typeof json?.error === 'string' && json.error.trim() ? json.error.trim() : undefined;
    // The API's own sentences are for people (e.g. "No such voicemail.", "Sign in again: …"); a 500's is generic.
    throw new PageApiError(kind, said && kind !== 'server' ? said : MESSAGES[kind], res.status);
  }

  private async send(path: string, body: Record<string, unknown>, token: string) {
    try {
      return await this.opts.fetch(this.url(path), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    } catch {
      throw new PageApiError('network', MESSAGES.network);
    }
  }

  private async refresh(): Promise<string> {
    try {
      return await this.opts.session.refresh();
    } catch (err) {
      if (err instanceof TokenError && err.retryable) {
        throw new PageApiError(err.kind === 'network' ? 'network' : 'unavailable', err.message, err.status);
      }
      const why = err instanceof Error && err.message ? ` ${err.message}` : '';
      throw new PageApiError('unauthorized', `${SIGN_IN_AGAIN}${why}`, err instanceof TokenError ? err.status : undefined);
    }
  }
}

async function readJson(res: { text(): Promise<string> }): Promise<Record<string, unknown> | undefined> {
  try {
    const parsed: unknown = JSON.parse(await res.text());
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Field readers for `parse` functions: each throws when the field is not what the API promises. */
export const field = {
  string(o: Record<string, unknown>, name: string): string {
    const v = o[name];
    if (typeof v !== 'string') throw new Error(`${name} is not a string`);
    return v;
  },
  optionalString(o: Record<string, unknown>, name: string): string | undefined {
    const v = o[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new Error(`${name} is not a string`);
    return v;
  },
  number(o: Record<string, unknown>, name: string): number {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${name} is not a number`);
    return v;
  },
  boolean(o: Record<string, unknown>, name: string): boolean {
    const v = o[name];
    if (typeof v !== 'boolean') throw new Error(`${name} is not a boolean`);
    return v;
  },
  object(o: Record<string, unknown>, name: string): Record<string, unknown> {
    const v = o[name];
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${name} is not an object`);
    return v as Record<string, unknown>;
  },
  array(o: Record<string, unknown>, name: string): Record<string, unknown>[] {
    const v = o[name];
    if (!Array.isArray(v) || v.some((e) => !e || typeof e !== 'object' || Array.isArray(e))) throw new Error(`${name} is not a list of objects`);
    return v as Record<string, unknown>[];
  },
};
