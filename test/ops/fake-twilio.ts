/**
 * A local fake of the parts of Twilio's REST API (api.twilio.com, 2010-04-01) that the ops commands use:
 * Accounts, Keys, Applications and IncomingPhoneNumbers. It listens on 127.0.0.1, checks HTTP Basic auth the
 * way Twilio does (account SID + auth token, or API key SID + secret), takes form-encoded POST bodies, answers
 * with the JSON shapes of the real endpoints (snake_case fields, list envelopes with paging metadata, error
 * bodies with `code`/`message`/`more_info`/`status`) and records every request.
 *
 * The helper library is pointed at it through its `httpClient` option (lib/ops/twilio-client.ts).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  form: Record<string, string>;
  /** the Basic-auth username */
  user: string;
}

type Json = Record<string, unknown>;

interface FailureRule {
  method: string;
  path: RegExp;
  status: number;
  remaining: number;
}

export function sid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

function rfc2822(date = new Date()): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function snake(pascal: string): string {
  return pascal.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

export class FakeTwilio {
  readonly accountSid = sid('AC');
  readonly authToken = randomBytes(16).toString('hex');
  readonly requests: RecordedRequest[] = [];
  readonly keys = new Map<string, Json & { secret?: string }>();
  readonly applications = new Map<string, Json>();
  readonly numbers = new Map<string, Json>();
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
          this.send(res, 500, { code: 20500, message: String(err), more_info: 'https://www.twilio.com/docs/errors/20500', status: 500 });
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

  /** An existing key whose secret nobody knows (as for any key created earlier). */
  seedKey(friendlyName: string): string {
    const keySid = sid('SK');
    this.keys.set(keySid, { sid: keySid, friendly_name: friendlyName, date_created: rfc2822(), date_updated: rfc2822() });
    return keySid;
  }

  seedApplication(friendlyName: string, voiceUrl = '', voiceMethod = 'POST'): string {
    const appSid = sid('AP');
    this.applications.set(appSid, this.applicationJson(appSid, { friendly_name: friendlyName, voice_url: voiceUrl, voice_method: voiceMethod }));
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

  private send(res: http.ServerResponse, status: number, body?: unknown): void {
    if (body === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }

  private error(res: http.ServerResponse, status: number, code: number, message: string): void {
    this.send(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
  }

  private authenticate(header: string | undefined): string | undefined {
    const m = /^Basic (.+)$/.exec(header ?? '');
    if (!m) return undefined;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    const user = decoded.slice(0, i);
    const pass = decoded.slice(i + 1);
    if (user === this.accountSid && pass === this.authToken) return user;
    const key = this.keys.get(user);
    if (key?.secret !== undefined && key.secret === pass) return user;
    return undefined;
  }

  private list(res: http.ServerResponse, path: string, query: Record<string, string>, key: string, items: Json[]): void {
    const pageSize = Math.min(Number(query.PageSize ?? 50) || 50, 1000);
    const page = Number(query.Page ?? 0) || 0;
    const slice = items.slice(page * pageSize, (page + 1) * pageSize);
    const filters = Object.entries(query)
      .filter(([k]) => k !== 'PageSize' && k !== 'Page' && k !== 'PageToken')
      .map(([k, v]) => `&${k}=${encodeURIComponent(v)}`)
      .join('');
    const pageUri = (p: number) => `${path}?PageSize=${pageSize}&Page=${p}${filters}`;
    this.send(res, 200, {
      [key]: slice,
      end: page * pageSize + Math.max(slice.length - 1, 0),
      first_page_uri: pageUri(0),
      next_page_uri: (page + 1) * pageSize < items.length ? pageUri(page + 1) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      start: page * pageSize,
      uri: pageUri(page),
    });
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const query = Object.fromEntries(url.searchParams);
    const form = Object.fromEntries(new URLSearchParams(body));
    const user = this.authenticate(req.headers.authorization);
    this.requests.push({ method, path: url.pathname, query, form, user: user ?? '' });

    if (!user) {
      this.send(res, 401, {
        code: 20003,
        detail: 'Your AccountSid or AuthToken was incorrect.',
        message: 'Authenticate',
        more_info: 'https://www.twilio.com/docs/errors/20003',
        status: 401,
      });
      return;
    }
    const rule = this.failures.find((f) => f.remaining > 0 && f.method === method && f.path.test(url.pathname));
    if (rule) {
      rule.remaining -= 1;
      this.error(res, rule.status, rule.status === 429 ? 20429 : 20500, rule.status === 429 ? 'Too Many Requests' : 'Internal Server Error');
      return;
    }

    const base = `/2010-04-01/Accounts/${this.accountSid}`;
    const notFound = () => this.error(res, 404, 20404, `The requested resource ${url.pathname} was not found`);
    const path = url.pathname;
    if (!path.startsWith(`/2010-04-01/Accounts/`)) return notFound();
    if (!path.startsWith(base)) {
      this.error(res, 403, 20003, 'Authenticate');
      return;
    }
    const rest = path.slice(base.length);

    if (rest === '.json' && method === 'GET') {
      this.send(res, 200, {
        auth_token: this.authToken,
        date_created: rfc2822(),
        date_updated: rfc2822(),
        friendly_name: 'My first Twilio account',
        owner_account_sid: this.accountSid,
        sid: this.accountSid,
        status: 'active',
        subresource_uris: {},
        type: 'Full',
        uri: `${base}.json`,
      });
      return;
    }

    // Keys
    if (rest === '/Keys.json') {
      if (method === 'GET') {
        const items = [...this.keys.values()].map(({ secret: _secret, ...k }) => k);
        return this.list(res, path, query, 'keys', items);
      }
      if (method === 'POST') {
        const keySid = sid('SK');
        const secret = randomBytes(16).toString('hex');
        const key = { sid: keySid, friendly_name: form.FriendlyName ?? null, date_created: rfc2822(), date_updated: rfc2822() };
        this.keys.set(keySid, { ...key, secret });
        return this.send(res, 201, { ...key, secret });
      }
    }
    let m = /^\/Keys\/(SK[0-9a-f]{32})\.json$/.exec(rest);
    if (m) {
      const key = this.keys.get(m[1]);
      if (!key) return notFound();
      if (method === 'GET') {
        const { secret: _secret, ...k } = key;
        return this.send(res, 200, k);
      }
      if (method === 'DELETE') {
        this.keys.delete(m[1]);
        return this.send(res, 204);
      }
    }

    // Applications
    if (rest === '/Applications.json') {
      if (method === 'GET') {
        const items = [...this.applications.values()].filter((a) => !query.FriendlyName || a.friendly_name === query.FriendlyName);
        return this.list(res, path, query, 'applications', items);
      }
      if (method === 'POST') {
        const appSid = sid('AP');
        const fields: Json = {};
        for (const [k, v] of Object.entries(form)) fields[snake(k)] = v;
        const app = this.applicationJson(appSid, fields);
        this.applications.set(appSid, app);
        return this.send(res, 201, app);
      }
    }
    m = /^\/Applications\/(AP[0-9a-f]{32})\.json$/.exec(rest);
    if (m) {
      const app = this.applications.get(m[1]);
      if (!app) return notFound();
      if (method === 'GET') return this.send(res, 200, app);
      if (method === 'POST') {
        for (const [k, v] of Object.entries(form)) app[snake(k)] = v;
        app.date_updated = rfc2822();
        return this.send(res, 200, app);
      }
      if (method === 'DELETE') {
        this.applications.delete(m[1]);
        return this.send(res, 204);
      }
    }

    // IncomingPhoneNumbers
    if (rest === '/IncomingPhoneNumbers.json' && method === 'GET') {
      const items = [...this.numbers.values()].filter(
        (n) =>
          (!query.PhoneNumber || n.phone_number === query.PhoneNumber) &&
          (!query.FriendlyName || n.friendly_name === query.FriendlyName),
      );
      return this.list(res, path, query, 'incoming_phone_numbers', items);
    }
    m = /^\/IncomingPhoneNumbers\/(PN[0-9a-f]{32})\.json$/.exec(rest);
    if (m) {
      const num = this.numbers.get(m[1]);
      if (!num) return notFound();
      if (method === 'GET') return this.send(res, 200, num);
      if (method === 'POST') {
        for (const [k, v] of Object.entries(form)) {
          const field = snake(k);
          num[field] = field.endsWith('_sid') && v === '' ? null : v;
        }
        num.date_updated = rfc2822();
        return this.send(res, 200, num);
      }
    }
    if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') {
      this.error(res, 405, 20004, 'Method not allowed');
      return;
    }
    notFound();
  }
}
