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
import Response from 'twilio/lib/http/response';
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
    const target = new URL(original.pathname + original.search, this.base);
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
