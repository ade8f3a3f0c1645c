/**
 * Twilio's copy of a recording over its REST API (2010-04-01, the Recording resource), authenticated with the
 * API key (HTTP Basic, key SID and secret) rather than the Auth Token:
 * - `GET /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.mp3` → 200 audio/mpeg;
 * - `DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json` → 204; 404 (error 20404) means it is
 *   already gone, which is what deleting wants.
 * Plain `fetch` with a time-out, not the helper library's REST client: two calls do not need its weight in the
 * bundle. Errors become TwilioApiError with Twilio's status and error code.
 */
import { type CredentialsProvider, TwilioApiError, type TwilioRecordings } from '../ports';

export const TWILIO_API_BASE_URL = 'https://api.twilio.com';
/**
 * Time-outs: a voicemail of two minutes is about 1 MB of MP3; a delete is small. With S3's 5 s the recording
 * callback stays within Twilio's 15 s (functionTimeoutSeconds('recordingStatus')).
 */
export const TWILIO_DOWNLOAD_TIMEOUT_MS = 5000;
export const TWILIO_DELETE_TIMEOUT_MS = 3000;

export class HttpTwilioRecordings implements TwilioRecordings {
  private readonly baseUrl: string;

  constructor(
    private readonly credentials: CredentialsProvider,
    opts: { baseUrl?: string } = {},
  ) {
    this.baseUrl = (opts.baseUrl ?? TWILIO_API_BASE_URL).replace(/\/+$/, '');
  }

  async download(accountSid: string, recordingSid: string): Promise<{ audio: Uint8Array; contentType: string }> {
    const res = await this.call('GET', this.url(accountSid, recordingSid, 'mp3'), TWILIO_DOWNLOAD_TIMEOUT_MS);
    if (res.status !== 200) throw await apiError(res, 'download');
    return { audio: new Uint8Array(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? 'audio/mpeg' };
  }

  async delete(accountSid: string, recordingSid: string): Promise<void> {
    const res = await this.call('DELETE', this.url(accountSid, recordingSid, 'json'), TWILIO_DELETE_TIMEOUT_MS);
    if (res.status === 204 || res.status === 404) {
      await res.arrayBuffer();
      return;
    }
    throw await apiError(res, 'delete');
  }

  private url(accountSid: string, recordingSid: string, extension: 'mp3' | 'json'): string {
    return `${this.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Recordings/${encodeURIComponent(recordingSid)}.${extension}`;
  }

  private async call(method: 'GET' | 'DELETE', url: string, timeoutMs: number): Promise<Response> {
    const { apiKeySid, apiKeySecret } = await this.credentials();
    try {
      return await fetch(url, {
        method,
        headers: { Authorization: `Basic ${Buffer.from(`${apiKeySid}:${apiKeySecret}`).toString('base64')}` },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'follow',
      });
    } catch (err) {
      throw new TwilioApiError(`Twilio could not be reached (${(err as Error)?.name ?? 'Error'})`, 0);
    }
  }
}

async function apiError(res: Response, what: string): Promise<TwilioApiError> {
  let code: number | undefined;
  let message = '';
  try {
    const body = (await res.json()) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'number') code = body.code;
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON: the status says enough
  }
  return new TwilioApiError(
    `Twilio recording ${what} failed: HTTP ${res.status}${code ? ` (error ${code})` : ''}${message ? `: ${message}` : ''}`,
    res.status,
    code,
  );
}
