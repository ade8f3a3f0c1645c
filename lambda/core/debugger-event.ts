/**
 * Twilio's Debugger webhook (Console: Monitor → Debugger, the "Debugging Events Webhook"): for each error or
 * warning on the account Twilio POSTs form parameters `Sid` (NO…), `AccountSid`, `ParentAccountSid` (a
 * subaccount's), `Timestamp`, `Level` (Error or Warning; older accounts send ERROR, WARNING), `PayloadType`
 * (application/json) and `Payload`, a JSON document: `resource_sid`, `service_sid`, `error_code`, `more_info`,
 * and `webhook` {`request` {url, method, headers, parameters}, `response` {status_code, headers, body}}.
 *
 * What is read of it is only what says which error happened where: the level, the error code, the SIDs and the
 * URL Twilio called without its query (our webhook URLs carry the caller's number there). Never the request's
 * parameters, the response's body or `more_info`: they can hold personal data (numbers, what a caller typed) and
 * a request's headers can hold a signature. Every field read is checked for its form, so a hostile event puts
 * nothing but well-formed identifiers in a log line.
 */

export type AlertLevel = 'error' | 'warning';

/** What one Debugger event says, as far as it is logged and counted. */
export interface TwilioAlert {
  level: AlertLevel;
  /** the event's Sid (NO…) */
  sid?: string;
  /** Twilio's error code, e.g. `11200` (HTTP retrieval failure) */
  errorCode?: string;
  /** the resource the error is about (a call's CA…, a recording's RE…) */
  resourceSid?: string;
  serviceSid?: string;
  /** the URL Twilio called (a webhook error), without its query string, user or fragment */
  url?: string;
  method?: string;
  /** the status our endpoint answered with (a webhook error) */
  responseStatus?: string;
  /** when it happened, as Twilio says (ISO-8601) */
  timestamp?: string;
}

export type DebuggerEventResult = { ok: true; alert: TwilioAlert } | { ok: false; reason: string };

/** The largest Payload read: Twilio's documents are a few kilobytes (a webhook's request and response). */
export const MAX_DEBUGGER_PAYLOAD_CHARS = 64 * 1024;

const SID = /^[A-Z]{2}[0-9a-fA-F]{32}$/;
const ERROR_CODE = /^\d{1,6}$/;
const STATUS = /^\d{3}$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT[\d:.]{5,15}(Z|[+-]\d\d:?\d\d)?$/;
const MAX_URL_CHARS = 2048;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const sid = (v: unknown): string | undefined => (typeof v === 'string' && SID.test(v) ? v : undefined);
const matching = (v: unknown, re: RegExp): string | undefined => {
  const text = typeof v === 'number' && Number.isInteger(v) ? String(v) : v;
  return typeof text === 'string' && re.test(text) ? text : undefined;
};

/** `scheme://host/path` of an http(s) URL: no user, query or fragment. */
export function urlWithoutQuery(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_URL_CHARS) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Reads a Debugger event's parameters; `ok: false` with why, for anything that is not one. */
export function parseDebuggerEvent(params: Record<string, string>): DebuggerEventResult {
  const level = (params.Level ?? '').trim().toLowerCase();
  if (level !== 'error' && level !== 'warning') return { ok: false, reason: 'Level is not Error or Warning' };
  const payloadType = (params.PayloadType ?? 'application/json').trim().toLowerCase();
  if (payloadType !== 'application/json') return { ok: false, reason: 'PayloadType is not application/json' };
  const raw = params.Payload ?? '';
  if (raw.length > MAX_DEBUGGER_PAYLOAD_CHARS) return { ok: false, reason: 'Payload too large' };
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'Payload is not JSON' };
  }
  if (!isObject(payload)) return { ok: false, reason: 'Payload is not a JSON object' };
  const webhook = isObject(payload.webhook) ? payload.webhook : {};
  const request = isObject(webhook.request) ? webhook.request : {};
  const response = isObject(webhook.response) ? webhook.response : {};
  const method = typeof request.method === 'string' ? request.method.toUpperCase() : undefined;
  return {
    ok: true,
    alert: withoutUndefined({
      level: level as AlertLevel,
      sid: sid(params.Sid),
      errorCode: matching(payload.error_code, ERROR_CODE),
      resourceSid: sid(payload.resource_sid),
      serviceSid: sid(payload.service_sid),
      url: urlWithoutQuery(request.url),
      method: method === 'GET' || method === 'POST' ? method : undefined,
      responseStatus: matching(response.status_code, STATUS),
      timestamp: matching(params.Timestamp, TIMESTAMP),
    }),
  };
}
