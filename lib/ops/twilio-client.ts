/**
 * Building the Twilio REST client for the ops commands.
 *
 * The REST client comes by its deep path like every other Twilio import (the package root would also load
 * the JWT, TwiML and webhook modules this CLI does not use). `apiBaseUrl` points every request at another
 * origin through the library's supported hook, the `httpClient` client option: a `RequestClient` whose
 * `request()` rewrites `https://<product>.twilio.com/...` to `<apiBaseUrl>/...` and otherwise behaves exactly
 * like the stock client (Basic auth, form-encoded bodies, query strings, paging). The tests use it to talk to a
 * local fake of the REST API on 127.0.0.1.
 */
import RequestClient from 'twilio/lib/base/RequestClient';
import type Response from 'twilio/lib/http/response';
import Twilio from 'twilio/lib/rest/Twilio';

export type TwilioClient = Twilio;

export interface TwilioAuth {
  /** `AC…` with the auth token, or `SK…` with the API key secret */
  username: string;
  password: string;
  accountSid: string;
}

export type TwilioClientFactory = (auth: TwilioAuth) => TwilioClient;

/** A RequestClient that sends every request to `baseUrl` instead of the Twilio host it was built for. */
export class RedirectingRequestClient extends RequestClient {
  private readonly base: URL;

  constructor(baseUrl: string, opts?: RequestClient.RequestClientOptions) {
    super(opts);
    this.base = new URL(baseUrl);
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const original = new URL(opts.uri);
    const target = new URL(this.base.href);
    target.pathname = this.base.pathname.replace(/\/+$/, '') + original.pathname;
    target.search = original.search;
    return super.request({ ...opts, uri: target.href });
  }
}

export function twilioClientFactory(opts: { apiBaseUrl?: string } = {}): TwilioClientFactory {
  return ({ username, password, accountSid }) =>
    new Twilio(username, password, {
      accountSid,
      ...(opts.apiBaseUrl ? { httpClient: new RedirectingRequestClient(opts.apiBaseUrl) } : {}),
    });
}

/** `status` of a RestException (or any error carrying one); undefined for network errors. */
export function errorStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const status = errorStatus(err);
    const prefix = status !== undefined ? `HTTP ${status}${typeof code === 'number' ? `, Twilio error ${code}` : ''}: ` : '';
    return prefix + err.message;
  }
  return String(err);
}

/** Twilio could not be asked (network failure, time-out, or a 5xx/429 answer): no verdict on the credentials. */
export class TwilioUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TwilioUnreachableError';
  }
}

/** 401/403: Twilio refused these credentials for this request. */
export function isRefusal(err: unknown): boolean {
  const status = errorStatus(err);
  return status === 401 || status === 403;
}

/**
 * Does Twilio accept this API key (SID + secret)? Asked with a request a Standard key may make: fetching the
 * TwiML App it will be used with (or, before there is one, listing applications). Standard keys may not read
 * the Account resource nor manage Keys (HTTP 401, error 20003; twilio/twilio-python#259, twilio/twilio-cli#146),
 * so those requests would refuse every correct key. A 404 for the app still proves the key authenticated.
 * Resolves 'accepted' or 'refused' (401/403); throws TwilioUnreachableError when Twilio gave no verdict.
 */
export async function checkApiKey(
  factory: TwilioClientFactory,
  key: { accountSid: string; apiKeySid: string; apiKeySecret: string; twimlAppSid?: string },
): Promise<'accepted' | 'refused'> {
  const client = factory({ username: key.apiKeySid, password: key.apiKeySecret, accountSid: key.accountSid });
  try {
    if (key.twimlAppSid) await client.applications(key.twimlAppSid).fetch();
    else await client.applications.list({ limit: 1 });
    return 'accepted';
  } catch (err) {
    if (isRefusal(err)) return 'refused';
    if (errorStatus(err) === 404) return 'accepted';
    throw new TwilioUnreachableError(`could not ask Twilio about API key ${key.apiKeySid}: ${errorMessage(err)}`, { cause: err });
  }
}
