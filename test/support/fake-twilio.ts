/**
 * A local fake of the parts of Twilio's REST API (api.twilio.com, 2010-04-01) that the ops commands use —
 * Accounts, Keys, Applications and IncomingPhoneNumbers — held to Twilio's published contract, so that code
 * which would fail against a real account fails here too. It listens on 127.0.0.1, takes form-encoded POST
 * bodies, answers with the JSON of the real endpoints (snake_case fields, list envelopes with paging metadata,
 * error bodies `{code, message, more_info, status}`) and records every request.
 *
 * Authentication and authorization, as Twilio does them:
 * - HTTP Basic auth with the account SID and its Auth Token, or an API key SID (SK…) and its secret; anything
 *   else is 401, code 20003.
 * - API keys here are Standard keys (the only kind the REST API creates: Main keys "can only be created in the
 *   Twilio Console", https://www.twilio.com/docs/iam/api-keys/keys-in-console). A Standard key has "access to
 *   all Twilio API resources, except for Accounts (/Accounts) or Keys (/Accounts/{SID}/Keys, /v1/Keys)
 *   resources" (same page; https://www.twilio.com/docs/iam/api-keys); twilio/twilio-cli#146: "Standard API
 *   Keys ... are not permitted to manage Accounts (e.g., create Subaccounts) and other API Keys";
 *   twilio/twilio-python#259, a maintainer: "you can't use a Key Secret to get an Account". So a request
 *   authenticated with a key gets 401 / 20003 "Authenticate" on the Account resource (fetching the account
 *   included) and on every Keys resource (list, fetch, create, update, delete): creating a key takes the Auth
 *   Token. Applications and IncomingPhoneNumbers are open to keys.
 *
 * Contract (test/support/twilio-openapi.ts, from Twilio's own OpenAPI description): every request is checked
 * with `checkRequest` and every JSON answer with `checkResponse`; what departs from the spec is collected in
 * `contractViolations`, and a request that departs from it is refused as Twilio refuses it: a path the API does
 * not have → 404 / 20404, a method the path does not have → 405 / 20004, an undeclared, missing required or
 * invalid parameter → 400 (see BAD_REQUEST). Tests should expect `contractViolations` to be empty.
 *
 * The Recording resource, for the voicemail callback (lambda/adapters/twilio-recordings.ts), which reaches it
 * through TWILIO_API_BASE_URL:
 * - `GET /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json` (the spec's FetchRecording) and
 *   `DELETE …/Recordings/{Sid}.json` (DeleteRecording: 204 with no body; 404 / 20404 once it is gone);
 * - `GET …/Recordings/{Sid}.mp3`, the recording's media. The spec describes no media path; Twilio's Recording
 *   documentation (https://www.twilio.com/docs/voice/api/recording#fetch-a-recording-media-file) fetches it at
 *   the resource's URI with a media extension ("Appending .mp3 to the URI returns a binary MP3 audio file with
 *   mime-type audio/mpeg"; none or `.wav` gives WAV), and the spec's own examples give `media_url` as that URI
 *   without an extension. Here it is checked as FetchRecording's path (its AccountSid and Sid patterns),
 *   answers `audio/mpeg` bytes, and takes the same Basic auth as every resource — as an account with "HTTP
 *   Basic Authentication for media access" on answers (the setting Twilio requires for HIPAA workloads): a
 *   wrong key 401 / 20003, an unknown recording 404 / 20404. Only GET; `.wav` is not served.
 *
 * Resource fields are stored as the form sent them (`VoiceUrl` → `voice_url`, `StatusCallback` →
 * `status_callback`, `StatusCallbackMethod` → `status_callback_method`: the call-status callback of a number or
 * TwiML App) and answered in every later fetch and list, once the request passed the contract check (so a
 * `StatusCallbackMethod` other than GET/POST, or a `StatusCallback` that is not a URL, is a 400 that changes
 * nothing). Unset, a number answers `status_callback: ""` (as the spec's examples do) and an application `null`
 * (the field is nullable), both with `status_callback_method: "POST"` (the spec: "defaults to `POST`").
 *
 * The helper library is pointed at it through its `httpClient` option (lib/ops/twilio-client.ts).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkResponse, matchPath, requestProblems, type MatchedPath, type RequestProblem } from './twilio-openapi';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  form: Record<string, string>;
  /** the Basic-auth username, '' when the credentials were refused */
  user: string;
  /** the HTTP status the fake answered with */
  status?: number;
}

type Json = Record<string, unknown>;

interface FailureRule {
  method: string;
  path: RegExp;
  status: number;
  remaining: number;
}

interface Caller {
  user: string;
  /** 'account': AccountSid + Auth Token; 'standard-key': an API key SID + its secret */
  kind: 'account' | 'standard-key';
}

/**
 * The Twilio error for a request whose parameters depart from the spec. Twilio's Error and Warning Dictionary
 * lists "400: Bad Request" (https://www.twilio.com/docs/api/errors/400) with the causes "A required parameter
 * is missing from the request" and "One or more request parameters did not pass validation"; the real API
 * often answers a resource-specific 21xxx code instead (e.g. 21201 "No 'To' number specified"), which a
 * generic fake cannot know. (20001, suggested elsewhere, could not be confirmed as that error's code.)
 */
const BAD_REQUEST = 400;

export function sid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

function rfc2822(date = new Date()): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function snake(pascal: string): string {
  return pascal.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** A recording's media file: the Recording resource's URI with a media extension instead of `.json`. */
const RECORDING_MEDIA = /^\/2010-04-01\/Accounts\/[^/]+\/Recordings\/[^/.]+\.(mp3|wav)$/;

/** Fields the API answers as booleans (form values arrive as 'true'/'false'). */
const BOOLEAN_FIELDS = new Set(['voice_caller_id_lookup', 'public_application_connect_enabled']);

/** Paths a Standard API key may not use: the Account resource (and subaccounts) and every Keys resource. */
function forbiddenToStandardKeys(template: string): boolean {
  return (
    template === '/2010-04-01/Accounts.json' ||
    template === '/2010-04-01/Accounts/{Sid}.json' ||
    template.startsWith('/2010-04-01/Accounts/{AccountSid}/Keys') ||
    template.startsWith('/2010-04-01/Accounts/{AccountSid}/SigningKeys')
  );
}

export class FakeTwilio {
  readonly accountSid = sid('AC');
  readonly authToken = randomBytes(16).toString('hex');
  readonly requests: RecordedRequest[] = [];
  /** every departure from Twilio's published contract, in requests made to the fake and in its own answers */
  readonly contractViolations: string[] = [];
  readonly keys = new Map<string, Json & { secret?: string }>();
  readonly applications = new Map<string, Json>();
  readonly numbers = new Map<string, Json>();
  /** Recording resources (JSON fields) with their media, by RecordingSid; DELETE removes them. */
  readonly recordings = new Map<string, { json: Json; audio: Buffer }>();
  url = '';
  private server?: http.Server;
  private failures: FailureRule[] = [];

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          this.handle(req, Buffer.concat(chunks).toString('utf8'), res);
        } catch (err) {
          this.error(res, req.method ?? 'GET', req.url ?? '/', 500, 20500, String(err));
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Answer the next `times` requests matching method and path with an error status. */
  fail(method: string, path: RegExp, status = 500, times = Number.POSITIVE_INFINITY): void {
    this.failures.push({ method: method.toUpperCase(), path, status, remaining: times });
  }

  clearFailures(): void {
    this.failures = [];
  }

  /** Requests that change something (POST/DELETE). */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  /**
   * An existing (Standard) API key. Without `secret` nobody knows its secret (as for any key created earlier);
   * with one, it authenticates.
   */
  seedKey(friendlyName: string, opts: { secret?: string } = {}): string {
    const keySid = sid('SK');
    this.keys.set(keySid, {
      sid: keySid,
      friendly_name: friendlyName,
      date_created: rfc2822(),
      date_updated: rfc2822(),
      ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
    });
    return keySid;
  }

  /** An existing TwiML App; `fields` are JSON fields of the Application resource (e.g. `status_callback`). */
  seedApplication(friendlyName: string, voiceUrl = '', voiceMethod = 'POST', fields: Json = {}): string {
    const appSid = sid('AP');
    this.applications.set(
      appSid,
      this.applicationJson(appSid, { friendly_name: friendlyName, voice_url: voiceUrl, voice_method: voiceMethod, ...fields }),
    );
    return appSid;
  }

  seedNumber(phoneNumber: string, fields: Json = {}): string {
    const pnSid = sid('PN');
    const base = `/2010-04-01/Accounts/${this.accountSid}`;
    this.numbers.set(pnSid, {
      account_sid: this.accountSid,
      address_requirements: 'none',
      address_sid: null,
      api_version: '2010-04-01',
      beta: false,
      capabilities: { voice: true, sms: true, mms: false, fax: false },
      date_created: rfc2822(),
      date_updated: rfc2822(),
      emergency_status: 'Inactive',
      emergency_address_sid: null,
      emergency_address_status: 'unregistered',
      friendly_name: phoneNumber,
      identity_sid: null,
      origin: 'twilio',
      phone_number: phoneNumber,
      sid: pnSid,
      // Twilio answers "" for an unset application SID (the spec's own examples do)
      sms_application_sid: '',
      sms_fallback_method: 'POST',
      sms_fallback_url: '',
      sms_method: 'POST',
      sms_url: '',
      status_callback: '',
      status_callback_method: 'POST',
      trunk_sid: null,
      uri: `${base}/IncomingPhoneNumbers/${pnSid}.json`,
      voice_receive_mode: 'voice',
      voice_application_sid: null,
      voice_caller_id_lookup: false,
      voice_fallback_method: 'POST',
      voice_fallback_url: null,
      voice_method: 'POST',
      voice_url: 'https://demo.twilio.com/welcome/voice/',
      bundle_sid: null,
      status: 'in-use',
      subresource_uris: { assigned_add_ons: `${base}/IncomingPhoneNumbers/${pnSid}/AssignedAddOns.json` },
      ...fields,
    });
    return pnSid;
  }

  numberBySid(pnSid: string): Json {
    return this.numbers.get(pnSid)!;
  }

  /**
   * A completed recording of a `<Record>` (a voicemail) with its MP3 media; returns its RecordingSid. Without
   * `audio`, a few KB that start like an MP3 file (an ID3 tag, then an MPEG audio frame header) and are unique.
   */
  seedRecording(opts: { callSid?: string; durationSeconds?: number; audio?: Uint8Array } = {}): string {
    const reSid = sid('RE');
    const base = `/2010-04-01/Accounts/${this.accountSid}`;
    const audio = opts.audio
      ? Buffer.from(opts.audio)
      : Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.from([0xff, 0xfb, 0x90, 0x64]), randomBytes(4096)]);
    const now = rfc2822();
    this.recordings.set(reSid, {
      audio,
      json: {
        account_sid: this.accountSid,
        api_version: '2010-04-01',
        call_sid: opts.callSid ?? sid('CA'),
        conference_sid: null,
        channels: 1,
        date_created: now,
        date_updated: now,
        start_time: now,
        price: '-0.00250',
        price_unit: 'USD',
        duration: String(opts.durationSeconds ?? 7),
        sid: reSid,
        source: 'RecordVerb',
        status: 'completed',
        error_code: null,
        uri: `${base}/Recordings/${reSid}.json`,
        encryption_details: null,
        subresource_uris: {
          add_on_results: `${base}/Recordings/${reSid}/AddOnResults.json`,
          transcriptions: `${base}/Recordings/${reSid}/Transcriptions.json`,
        },
        media_url: `${this.url}${base}/Recordings/${reSid}`,
      },
    });
    return reSid;
  }

  private applicationJson(appSid: string, fields: Json): Json {
    return {
      account_sid: this.accountSid,
      api_version: '2010-04-01',
      date_created: rfc2822(),
      date_updated: rfc2822(),
      friendly_name: null,
      message_status_callback: null,
      sid: appSid,
      sms_fallback_method: 'POST',
      sms_fallback_url: null,
      sms_method: 'POST',
      sms_status_callback: null,
      sms_url: null,
      status_callback: null,
      status_callback_method: 'POST',
      uri: `/2010-04-01/Accounts/${this.accountSid}/Applications/${appSid}.json`,
      voice_caller_id_lookup: false,
      voice_fallback_method: 'POST',
      voice_fallback_url: null,
      voice_method: 'POST',
      voice_url: null,
      public_application_connect_enabled: true,
      ...fields,
    };
  }

  /** Sends an answer, after checking it against the contract. */
  private send(res: http.ServerResponse, method: string, path: string, status: number, body?: unknown, recorded?: RecordedRequest): void {
    this.contractViolations.push(...checkResponse({ method, path, status, body }));
    if (recorded) recorded.status = status;
    if (body === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }

  private error(
    res: http.ServerResponse,
    method: string,
    path: string,
    status: number,
    code: number,
    message: string,
    recorded?: RecordedRequest,
  ): void {
    this.send(res, method, path, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, recorded);
  }

  private authenticate(header: string | undefined): Caller | undefined {
    const m = /^Basic (.+)$/.exec(header ?? '');
    if (!m) return undefined;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return undefined;
    const user = decoded.slice(0, i);
    const pass = decoded.slice(i + 1);
    if (user === this.accountSid && pass === this.authToken) return { user, kind: 'account' };
    const key = this.keys.get(user);
    if (key?.secret !== undefined && key.secret === pass) return { user, kind: 'standard-key' };
    return undefined;
  }

  /** Answers one request (each branch returns as soon as it has answered). */
  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const formParams = new URLSearchParams(body);
    const form = Object.fromEntries(formParams);
    const caller = this.authenticate(req.headers.authorization);
    const recorded: RecordedRequest = { method, path, query, form, user: caller?.user ?? '' };
    this.requests.push(recorded);

    // A recording's media (`…/Recordings/{Sid}.mp3`) is checked as the Recording resource's path (see the top).
    const media = RECORDING_MEDIA.exec(path);
    const contractPath = media ? `${path.slice(0, -media[1].length)}json` : path;
    const problems = requestProblems({ method: media ? 'GET' : method, path: contractPath, query: multi(url.searchParams), form: multi(formParams) });
    this.contractViolations.push(...problems.map((p) => p.message));
    const send = (status: number, json?: unknown) => this.send(res, method, path, status, json, recorded);
    const error = (status: number, code: number, message: string) => this.error(res, method, path, status, code, message, recorded);

    if (!caller) {
      return send(401, {
        code: 20003,
        detail: 'Your AccountSid or AuthToken was incorrect.',
        message: 'Authenticate',
        more_info: 'https://www.twilio.com/docs/errors/20003',
        status: 401,
      });
    }
    const first = (kind: RequestProblem['kind']) => problems.find((p) => p.kind === kind);
    if (first('path')) return error(404, 20404, `The requested resource ${path} was not found`);
    if (media && method !== 'GET') {
      this.contractViolations.push(`${method} ${path}: a recording's media is fetched with GET only`);
      return error(405, 20004, 'Method not allowed');
    }
    if (first('method')) return error(405, 20004, 'Method not allowed');
    if (media && media[1] !== 'mp3')
      return error(404, 20404, `The requested resource ${path} was not found (.${media[1]} media is not implemented by the test fake)`);
    const match = matchPath(media ? 'GET' : method, contractPath)!;
    if (caller.kind === 'standard-key' && forbiddenToStandardKeys(match.template)) {
      // what Twilio answers a Standard key here (twilio/twilio-python#259)
      return error(401, 20003, 'Authenticate');
    }
    const accountInPath = match.params.AccountSid ?? (match.template === '/2010-04-01/Accounts/{Sid}.json' ? match.params.Sid : undefined);
    if (accountInPath !== undefined && accountInPath !== this.accountSid) return error(403, 20003, 'Authenticate');
    if (problems.length > 0) {
      const p = first('missing-parameter') ?? first('unknown-parameter') ?? problems[0];
      return error(400, BAD_REQUEST, p.message.replace(/^\S+ \S+: /, ''));
    }
    const rule = this.failures.find((f) => f.remaining > 0 && f.method === method && f.path.test(path));
    if (rule) {
      rule.remaining -= 1;
      return error(rule.status, rule.status === 429 ? 20429 : 20500, rule.status === 429 ? 'Too Many Requests' : 'Internal Server Error');
    }
    if (media) {
      const recording = this.recordings.get(match.params.Sid);
      if (!recording) return error(404, 20404, `The requested resource ${path} was not found`);
      recorded.status = 200;
      res.writeHead(200, { 'Content-Type': 'audio/mpeg', 'Content-Length': String(recording.audio.length) });
      res.end(recording.audio);
      return;
    }
    this.route(match, method, path, query, form, send, error);
  }

  private route(
    match: MatchedPath,
    method: string,
    path: string,
    query: Record<string, string>,
    form: Record<string, string>,
    send: (status: number, json?: unknown) => void,
    error: (status: number, code: number, message: string) => void,
  ) {
    const base = `/2010-04-01/Accounts/${this.accountSid}`;
    const notFound = () => error(404, 20404, `The requested resource ${path} was not found`);
    const itemSid = match.params.Sid;
    const list = (key: string, items: Json[]) => send(200, this.page(path, query, key, items));

    switch (`${method} ${match.template}`) {
      case 'GET /2010-04-01/Accounts/{Sid}.json':
        return send(200, {
          auth_token: this.authToken,
          date_created: rfc2822(),
          date_updated: rfc2822(),
          friendly_name: 'My first Twilio account',
          owner_account_sid: this.accountSid,
          sid: this.accountSid,
          status: 'active',
          subresource_uris: {
            applications: `${base}/Applications.json`,
            incoming_phone_numbers: `${base}/IncomingPhoneNumbers.json`,
            keys: `${base}/Keys.json`,
          },
          type: 'Full',
          uri: `${base}.json`,
        });

      // Keys (api.v2010.account.key; new_key when created, the only time the secret is shown)
      case 'GET /2010-04-01/Accounts/{AccountSid}/Keys.json':
        return list(
          'keys',
          [...this.keys.values()].map(({ secret: _secret, ...k }) => k),
        );
      case 'POST /2010-04-01/Accounts/{AccountSid}/Keys.json': {
        const keySid = sid('SK');
        const secret = randomBytes(16).toString('hex');
        const key = { sid: keySid, friendly_name: form.FriendlyName ?? null, date_created: rfc2822(), date_updated: rfc2822() };
        this.keys.set(keySid, { ...key, secret });
        return send(201, { ...key, secret });
      }
      case 'GET /2010-04-01/Accounts/{AccountSid}/Keys/{Sid}.json':
      case 'POST /2010-04-01/Accounts/{AccountSid}/Keys/{Sid}.json':
      case 'DELETE /2010-04-01/Accounts/{AccountSid}/Keys/{Sid}.json': {
        const key = this.keys.get(itemSid);
        if (!key) return notFound();
        if (method === 'DELETE') {
          this.keys.delete(itemSid);
          return send(204);
        }
        if (method === 'POST') {
          if (form.FriendlyName !== undefined) key.friendly_name = form.FriendlyName;
          key.date_updated = rfc2822();
        }
        const { secret: _secret, ...k } = key;
        return send(200, k);
      }

      // Applications
      case 'GET /2010-04-01/Accounts/{AccountSid}/Applications.json':
        return list(
          'applications',
          [...this.applications.values()].filter((a) => query.FriendlyName === undefined || a.friendly_name === query.FriendlyName),
        );
      case 'POST /2010-04-01/Accounts/{AccountSid}/Applications.json': {
        const appSid = sid('AP');
        const app = this.applicationJson(appSid, this.fields(form));
        this.applications.set(appSid, app);
        return send(201, app);
      }
      case 'GET /2010-04-01/Accounts/{AccountSid}/Applications/{Sid}.json':
      case 'POST /2010-04-01/Accounts/{AccountSid}/Applications/{Sid}.json':
      case 'DELETE /2010-04-01/Accounts/{AccountSid}/Applications/{Sid}.json': {
        const app = this.applications.get(itemSid);
        if (!app) return notFound();
        if (method === 'DELETE') {
          this.applications.delete(itemSid);
          return send(204);
        }
        if (method === 'POST') Object.assign(app, this.fields(form), { date_updated: rfc2822() });
        return send(200, app);
      }

      // IncomingPhoneNumbers
      case 'GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json':
        return list(
          'incoming_phone_numbers',
          [...this.numbers.values()].filter(
            (n) =>
              (query.PhoneNumber === undefined || n.phone_number === query.PhoneNumber) &&
              (query.FriendlyName === undefined || n.friendly_name === query.FriendlyName),
          ),
        );
      case 'GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json':
      case 'POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json': {
        const num = this.numbers.get(itemSid);
        if (!num) return notFound();
        if (method === 'POST') {
          const fields = this.fields(form);
          // moving a number to another account is not modelled
          delete fields.account_sid;
          // an emptied SID field reads back as null
          for (const [k, v] of Object.entries(fields)) if (k.endsWith('_sid') && v === '') fields[k] = null;
          Object.assign(num, fields, { date_updated: rfc2822() });
        }
        return send(200, num);
      }
      // Recordings (api.v2010.account.recording); the media is served in handle()
      case 'GET /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json':
      case 'DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json': {
        const recording = this.recordings.get(itemSid);
        if (!recording) return notFound();
        if (method === 'DELETE') {
          this.recordings.delete(itemSid);
          return send(204);
        }
        return send(200, recording.json);
      }

      default:
        // in Twilio's API, but not in this fake: say so rather than pretend
        return error(404, 20404, `The requested resource ${path} was not found (${method} ${match.template} is not implemented by the test fake)`);
    }
  }

  /** Form fields (already checked against the spec) as the resource's JSON fields. */
  private fields(form: Record<string, string>): Json {
    const fields: Json = {};
    for (const [k, v] of Object.entries(form)) {
      const field = snake(k);
      fields[field] = BOOLEAN_FIELDS.has(field) ? v === 'true' : v;
    }
    return fields;
  }

  /** One page of a list, in Twilio's list envelope. */
  private page(path: string, query: Record<string, string>, key: string, items: Json[]): Json {
    const pageSize = Math.min(Number(query.PageSize ?? 50) || 50, 1000);
    const page = Number(query.Page ?? 0) || 0;
    const slice = items.slice(page * pageSize, (page + 1) * pageSize);
    const filters = Object.entries(query)
      .filter(([k]) => k !== 'PageSize' && k !== 'Page' && k !== 'PageToken')
      .map(([k, v]) => `&${k}=${encodeURIComponent(v)}`)
      .join('');
    const pageUri = (p: number) => `${path}?PageSize=${pageSize}&Page=${p}${filters}`;
    return {
      [key]: slice,
      end: page * pageSize + Math.max(slice.length - 1, 0),
      first_page_uri: pageUri(0),
      next_page_uri: (page + 1) * pageSize < items.length ? pageUri(page + 1) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      start: page * pageSize,
      uri: pageUri(page),
    };
  }
}

/** Query or form parameters with every value of a repeated name. */
function multi(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of new Set(params.keys())) {
    const all = params.getAll(name);
    out[name] = all.length === 1 ? all[0] : all;
  }
  return out;
}
