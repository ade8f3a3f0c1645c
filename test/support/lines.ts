/**
 * Shared helpers of the team-line tests (issue 14): a registry of lines on dynalite with fresh tables, devices
 * with cheap secret hashes, a strict TwiML reader, and Twilio's side of a call — signed webhooks posted to the
 * exact URLs the TwiML hands back, with the parameters Twilio sends.
 *
 * Everything here runs the project's real code (the DynamoDB adapters, the local app's table set-up, the
 * webhook signer); only Twilio itself is played.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAttemptStore } from '../../lambda/adapters/dynamo-attempt-store';
import { DynamoCallLog } from '../../lambda/adapters/dynamo-call-log';
import { DynamoLineDirectory } from '../../lambda/adapters/dynamo-line-directory';
import { DynamoVoicemailStore } from '../../lambda/adapters/dynamo-voicemail-store';
import { hashDeviceSecret, type ScryptParams } from '../../lambda/core/device-secret';
import type { DeviceRecord, LineDirectory, Log } from '../../lambda/ports';
import { createRegistryTables } from '../../lib/local/registry-server';
import { type DynaliteServer, startDynaliteServer } from './dynalite';
import { signWebhook } from '../../lib/local/sign';

// ---------------------------------------------------------------------------------------------------------
// The registry of lines on dynalite

/** Cheap scrypt cost for tests only (production: N=2^15); the token handler verifies with the hash's own cost. */
export const CHEAP_SCRYPT: ScryptParams = { N: 16, r: 1, p: 1 };

export interface LineTables {
  client: DynamoDBClient;
  lines: DynamoLineDirectory;
  voicemails: DynamoVoicemailStore;
  attempts: DynamoAttemptStore;
  calls: DynamoCallLog;
  registryTable: string;
  attemptsTable: string;
  callsTable: string;
}

let tableCounter = 0;

/** New registry and attempts tables (the local app's own set-up), uniquely named, with their stores. */
export async function freshLineTables(client: DynamoDBClient, opts: { now?: () => number } = {}): Promise<LineTables> {
  const n = ++tableCounter;
  const registryTable = `lines-${process.pid}-${n}`;
  const attemptsTable = `line-attempts-${process.pid}-${n}`;
  const callsTable = `line-calls-${process.pid}-${n}`;
  await createRegistryTables(client, registryTable, attemptsTable, callsTable);
  return {
    client,
    lines: new DynamoLineDirectory({ client, table: registryTable, ...(opts.now ? { now: opts.now } : {}) }),
    voicemails: new DynamoVoicemailStore({ client, table: registryTable }),
    attempts: new DynamoAttemptStore({ client, table: attemptsTable }),
    calls: new DynamoCallLog({ client, table: callsTable, retentionDays: 90 }),
    registryTable,
    attemptsTable,
    callsTable,
  };
}

/**
 * One dynalite for the test file (beforeAll/afterAll), fresh tables for every test (beforeEach). The returned
 * object always shows the current test's tables; `server` is there from beforeAll on.
 */
export function useLineRegistry(): LineTables & { server: DynaliteServer } {
  let server: DynaliteServer | undefined;
  let tables: LineTables | undefined;
  const view = {} as LineTables & { server: DynaliteServer };
  Object.defineProperty(view, 'server', {
    get: () => {
      if (!server) throw new Error('useLineRegistry: the server starts in beforeAll');
      return server;
    },
  });
  for (const key of ['client', 'lines', 'voicemails', 'attempts', 'calls', 'registryTable', 'attemptsTable', 'callsTable'] as const) {
    Object.defineProperty(view, key, {
      get: () => {
        if (!tables) throw new Error('useLineRegistry: tables are made for each test, in beforeEach');
        return tables[key];
      },
    });
  }
  beforeAll(async () => {
    server = await startDynaliteServer();
  });
  beforeEach(async () => {
    tables = await freshLineTables(server!.client);
  });
  afterAll(async () => {
    await server?.close();
    server = undefined;
  });
  return view;
}

/** A device record for a line, its secret hashed at the cheap test cost. */
export async function memberRecord(
  phoneNumber: string,
  clientName: string,
  opts: { secret?: string; label?: string; createdAt?: string } = {},
): Promise<DeviceRecord> {
  return {
    phoneNumber,
    clientName,
    secretHash: await hashDeviceSecret(opts.secret ?? `secret-of-${clientName}`, CHEAP_SCRYPT),
    createdAt: opts.createdAt ?? new Date().toISOString(),
    ...(opts.label !== undefined ? { label: opts.label } : {}),
  };
}

/** Adds devices to a line in this order (ring order: createdAt one millisecond apart). */
export async function addMembers(lines: LineDirectory, phoneNumber: string, clientNames: string[], start = Date.parse('2024-01-01T00:00:00Z')) {
  const records: DeviceRecord[] = [];
  for (const [i, name] of clientNames.entries()) {
    const record = await memberRecord(phoneNumber, name, { createdAt: new Date(start + i).toISOString() });
    await lines.put(record);
    records.push(record);
  }
  return records;
}

/** A log that keeps its lines. */
export class KeptLog implements Log {
  readonly lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  debug = (message: string, fields?: Record<string, unknown>) => void this.lines.push({ level: 'DEBUG', message, fields });
  info = (message: string, fields?: Record<string, unknown>) => void this.lines.push({ level: 'INFO', message, fields });
  warn = (message: string, fields?: Record<string, unknown>) => void this.lines.push({ level: 'WARN', message, fields });
  error = (message: string, fields?: Record<string, unknown>) => void this.lines.push({ level: 'ERROR', message, fields });
}

/** A minimal static site for the local app (these tests never load the page). */
export async function writeMinimalSite(dir: string): Promise<string> {
  await mkdir(path.join(dir, 'assets'), { recursive: true });
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>softphone</title>');
  return dir;
}

export function twilioSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

// ---------------------------------------------------------------------------------------------------------
// TwiML: a strict XML reader and Twilio's verbs

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string, where: string): string {
  return text.replace(/&([^;]*);|&/g, (whole, name: string | undefined) => {
    if (name === undefined) throw new Error(`bare "&" in ${where}`);
    if (name in ENTITIES) return ENTITIES[name];
    const num = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(name);
    if (num) return String.fromCodePoint(num[1].startsWith('x') ? Number.parseInt(num[1].slice(1), 16) : Number(num[1]));
    throw new Error(`unknown entity ${whole} in ${where}`);
  });
}

/**
 * Parses an XML document (the subset TwiML uses: a declaration, elements, double- or single-quoted attributes,
 * text, the five entities and character references); throws on anything not well formed.
 */
export function parseXml(xml: string): XmlElement {
  let i = 0;
  const decl = /^<\?xml\s+version="1\.0"(\s+encoding="UTF-8")?\s*\?>/.exec(xml);
  if (!decl) throw new Error(`no XML declaration: ${xml.slice(0, 60)}`);
  i = decl[0].length;
  const ws = () => {
    while (i < xml.length && /\s/.test(xml[i])) i++;
  };
  const element = (): XmlElement => {
    if (xml[i] !== '<') throw new Error(`expected an element at ${i}: ${xml.slice(i, i + 30)}`);
    i++;
    const name = /^[A-Za-z_][\w.-]*/.exec(xml.slice(i))?.[0];
    if (!name) throw new Error(`bad element name at ${i}`);
    i += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      const before = i;
      ws();
      if (xml.startsWith('/>', i)) {
        i += 2;
        return { name, attrs, children: [] };
      }
      if (xml[i] === '>') {
        i++;
        break;
      }
      if (i === before) throw new Error(`expected white space before an attribute of <${name}> at ${i}`);
      const m = /^([A-Za-z_][\w.:-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(xml.slice(i));
      if (!m) throw new Error(`bad attribute in <${name}> at ${i}: ${xml.slice(i, i + 30)}`);
      if (m[1] in attrs) throw new Error(`attribute ${m[1]} repeated in <${name}>`);
      attrs[m[1]] = decodeEntities(m[3] ?? m[4], `<${name} ${m[1]}>`);
      i += m[0].length;
    }
    const children: XmlNode[] = [];
    for (;;) {
      if (i >= xml.length) throw new Error(`<${name}> is not closed`);
      if (xml.startsWith('</', i)) {
        const close = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(xml.slice(i));
        if (!close || close[1] !== name) throw new Error(`</${close?.[1] ?? '?'}> closes <${name}>`);
        i += close[0].length;
        return { name, attrs, children };
      }
      if (xml[i] === '<') {
        children.push(element());
        continue;
      }
      const end = xml.indexOf('<', i);
      const raw = xml.slice(i, end < 0 ? xml.length : end);
      if (raw.includes('>')) throw new Error(`raw ">" in the text of <${name}>`);
      const text = decodeEntities(raw, `<${name}>`);
      if (text.trim() !== '') children.push(text);
      i += raw.length;
    }
  };
  ws();
  const root = element();
  ws();
  if (i !== xml.length) throw new Error(`content after the root element: ${xml.slice(i, i + 30)}`);
  return root;
}

interface VerbRule {
  attrs: string[];
  children: string[];
  /** text content: required, allowed or forbidden */
  text: 'required' | 'allowed' | 'none';
}

const STATUS_CALLBACK_ATTRS = ['statusCallback', 'statusCallbackEvent', 'statusCallbackMethod'];

/** TwiML's verbs and nouns this app uses, with the attributes Twilio documents for each (twilio.com/docs/voice/twiml). */
const TWIML: Record<string, VerbRule> = {
  Response: { attrs: [], children: ['Say', 'Play', 'Dial', 'Record', 'Gather', 'Hangup', 'Pause', 'Redirect', 'Reject'], text: 'none' },
  Say: { attrs: ['voice', 'language', 'loop'], children: [], text: 'required' },
  Play: { attrs: ['loop', 'digits'], children: [], text: 'allowed' },
  Pause: { attrs: ['length'], children: [], text: 'none' },
  Hangup: { attrs: [], children: [], text: 'none' },
  Reject: { attrs: ['reason'], children: [], text: 'none' },
  Redirect: { attrs: ['method'], children: [], text: 'required' },
  Dial: {
    attrs: [
      'action',
      'answerOnBridge',
      'callerId',
      'hangupOnStar',
      'method',
      'record',
      'recordingStatusCallback',
      'recordingStatusCallbackMethod',
      'recordingStatusCallbackEvent',
      'recordingTrack',
      'ringTone',
      'timeLimit',
      'timeout',
      'trim',
      'sequential',
    ],
    children: ['Client', 'Number', 'Sip', 'Conference', 'Queue'],
    text: 'allowed',
  },
  Client: { attrs: ['url', 'method', ...STATUS_CALLBACK_ATTRS], children: ['Identity', 'Parameter'], text: 'allowed' },
  Identity: { attrs: [], children: [], text: 'required' },
  Parameter: { attrs: ['name', 'value'], children: [], text: 'none' },
  Number: { attrs: ['sendDigits', 'url', 'method', 'byoc', 'machineDetection', ...STATUS_CALLBACK_ATTRS], children: [], text: 'required' },
  Record: {
    attrs: [
      'action',
      'method',
      'timeout',
      'finishOnKey',
      'maxLength',
      'playBeep',
      'trim',
      'recordingStatusCallback',
      'recordingStatusCallbackMethod',
      'recordingStatusCallbackEvent',
      'storageUrl',
      'storageUrlMethod',
      'transcribe',
      'transcribeCallback',
    ],
    children: [],
    text: 'none',
  },
  Gather: {
    attrs: [
      'action',
      'actionOnEmptyResult',
      'finishOnKey',
      'hints',
      'input',
      'language',
      'method',
      'numDigits',
      'partialResultCallback',
      'profanityFilter',
      'speechModel',
      'speechTimeout',
      'timeout',
      'enhanced',
    ],
    children: ['Say', 'Play', 'Pause'],
    text: 'none',
  },
};

const URL_ATTRS = new Set(['action', 'url', 'recordingStatusCallback', 'statusCallback', 'transcribeCallback']);
const METHOD_ATTRS = new Set(['method', 'recordingStatusCallbackMethod', 'statusCallbackMethod']);
const WHOLE_NUMBER_ATTRS = new Set(['timeout', 'timeLimit', 'maxLength', 'numDigits', 'loop', 'length']);
const BOOLEAN_ATTRS = new Set(['answerOnBridge', 'playBeep', 'actionOnEmptyResult', 'hangupOnStar', 'sequential']);

function checkElement(el: XmlElement, parent: string | undefined): void {
  const rule = TWIML[el.name];
  if (!rule) throw new Error(`<${el.name}> is not a TwiML verb or noun this app may use`);
  if (parent !== undefined && !TWIML[parent].children.includes(el.name)) throw new Error(`<${el.name}> may not be inside <${parent}>`);
  for (const [name, value] of Object.entries(el.attrs)) {
    if (!rule.attrs.includes(name)) throw new Error(`<${el.name}> has no attribute ${name}`);
    if (URL_ATTRS.has(name) && !/^https?:\/\/[^\s]+$/.test(value)) throw new Error(`<${el.name} ${name}> is not an absolute URL: ${value}`);
    if (METHOD_ATTRS.has(name) && value !== 'POST' && value !== 'GET') throw new Error(`<${el.name} ${name}> is not GET or POST: ${value}`);
    if (WHOLE_NUMBER_ATTRS.has(name) && !/^\d+$/.test(value)) throw new Error(`<${el.name} ${name}> is not a whole number: ${value}`);
    if (BOOLEAN_ATTRS.has(name) && value !== 'true' && value !== 'false') throw new Error(`<${el.name} ${name}> is not true or false: ${value}`);
  }
  const texts = el.children.filter((c): c is string => typeof c === 'string');
  if (rule.text === 'none' && texts.length > 0) throw new Error(`<${el.name}> takes no text`);
  if (rule.text === 'required' && texts.join('').trim() === '') throw new Error(`<${el.name}> needs text`);
  for (const child of el.children) if (typeof child !== 'string') checkElement(child, el.name);
  if (el.name === 'Dial') {
    const clients = childElements(el, 'Client');
    if (clients.length > 10) throw new Error(`<Dial> with ${clients.length} <Client>s: Twilio dials at most 10`);
  }
  if (el.name === 'Client') {
    const identities = childElements(el, 'Identity');
    const ownText = texts.join('').trim();
    if (identities.length + (ownText ? 1 : 0) !== 1) throw new Error('<Client> needs exactly one identity');
  }
  if (el.name === 'Parameter' && (el.attrs.name === undefined || el.attrs.value === undefined)) throw new Error('<Parameter> needs name and value');
  if (el.name === 'Number' && !/^\+[1-9]\d{1,14}$/.test(textOf(el))) throw new Error(`<Number> is not E.164: ${textOf(el)}`);
}

/** Parses a TwiML document and checks it is valid TwiML (root `<Response>`, known verbs, their attributes). */
export function parseTwiml(xml: string): XmlElement {
  const root = parseXml(xml);
  if (root.name !== 'Response') throw new Error(`the root element is <${root.name}>, not <Response>`);
  checkElement(root, undefined);
  return root;
}

export function childElements(el: XmlElement, name?: string): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string' && (name === undefined || c.name === name));
}

export function childElement(el: XmlElement, name: string): XmlElement {
  const found = childElements(el, name);
  if (found.length !== 1) throw new Error(`expected one <${name}> in <${el.name}>, found ${found.length}`);
  return found[0];
}

export function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

/** The verbs of a document, in order: e.g. ['Say', 'Hangup']. */
export function verbs(doc: XmlElement): string[] {
  return childElements(doc).map((e) => e.name);
}

/** The identities a `<Dial>` rings, with each `<Client>`'s parameters. */
export function dialledClients(dial: XmlElement): { identity: string; parameters: Record<string, string> }[] {
  return childElements(dial, 'Client').map((c) => ({
    identity: childElements(c, 'Identity').map(textOf)[0] ?? textOf(c).trim(),
    parameters: Object.fromEntries(childElements(c, 'Parameter').map((p) => [p.attrs.name, p.attrs.value])),
  }));
}

// ---------------------------------------------------------------------------------------------------------
// Twilio's side: signed webhooks

export interface WebhookAnswer {
  status: number;
  contentType: string | null;
  body: string;
  /** the answer parsed and checked as TwiML (every TwiML answer, whatever its status, must be valid) */
  twiml?: XmlElement;
}

/** POSTs Twilio's form parameters to `url`, signed for that exact URL with the Auth Token, as Twilio does. */
export async function postWebhook(
  url: string,
  params: Record<string, string>,
  authToken: string,
  opts: { signature?: string } = {},
): Promise<WebhookAnswer> {
  const body = new URLSearchParams(params).toString();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8',
      'X-Twilio-Signature': opts.signature ?? signWebhook(authToken, url, body),
      'User-Agent': 'TwilioProxy/1.1',
    },
    body,
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type');
  return { status: res.status, contentType, body: text, ...(contentType === 'text/xml' && text !== '' ? { twiml: parseTwiml(text) } : {}) };
}

/** One status callback as Twilio would post it: where, and with which form parameters. */
export interface StatusCallback {
  url: string;
  params: Record<string, string>;
}

/** Which `statusCallbackEvent` subscribes to a call status (Twilio's `<Number>`/`<Client>` docs). */
const STATUS_EVENT: Record<string, string> = {
  queued: 'initiated',
  initiated: 'initiated',
  ringing: 'ringing',
  'in-progress': 'answered',
  completed: 'completed',
  busy: 'completed',
  'no-answer': 'completed',
  canceled: 'completed',
  failed: 'completed',
};

/** RFC 2822 in UTC, as Twilio writes `Timestamp`. */
export const rfc2822 = (ms: number) => new Date(ms).toUTCString().replace('GMT', '+0000');

/**
 * One call as Twilio makes it: the parent call from `from` to the line `to`, and the webhooks Twilio posts along
 * the way, each to the URL the previous TwiML named, with the call's parameters plus the step's own.
 */
export class TwilioCall {
  readonly callSid = twilioSid('CA');

  constructor(
    readonly authToken: string,
    readonly accountSid: string,
    readonly from: string,
    readonly to: string,
  ) {}

  /** The parameters of every request about the parent call (Twilio's voice request parameters). */
  params(callStatus: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      AccountSid: this.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: this.callSid,
      CallStatus: callStatus,
      Called: this.to,
      Caller: this.from,
      Direction: 'inbound',
      From: this.from,
      FromCountry: 'JP',
      To: this.to,
      ToCountry: 'JP',
      ...extra,
    };
  }

  /** The incoming-call webhook. */
  async incoming(url: string): Promise<WebhookAnswer> {
    return postWebhook(url, this.params('ringing'), this.authToken);
  }

  /** A `<Dial>` ended: Twilio posts its `action` (DialCallStatus, DialBridged, …; the parent's CallStatus). */
  async dialEnded(
    twiml: XmlElement,
    outcome: { DialCallStatus: string; DialBridged?: 'true' | 'false'; CallStatus?: string; DialCallDuration?: string },
  ): Promise<WebhookAnswer> {
    const dial = childElement(twiml, 'Dial');
    const action = dial.attrs.action;
    if (!action) throw new Error('the <Dial> has no action: Twilio would go on with the next verb');
    if ((dial.attrs.method ?? 'POST') !== 'POST') throw new Error('the <Dial> action is not POSTed');
    const { CallStatus = 'in-progress', ...dialParams } = outcome;
    return postWebhook(action, this.params(CallStatus, { DialCallSid: twilioSid('CA'), ...dialParams }), this.authToken);
  }

  /** A `<Redirect>`: Twilio requests its URL (POST) with the call's parameters and goes on with the answer. */
  async redirected(twiml: XmlElement, callStatus = 'ringing'): Promise<WebhookAnswer> {
    const redirect = childElement(twiml, 'Redirect');
    if ((redirect.attrs.method ?? 'POST') !== 'POST') throw new Error('the <Redirect> is not POSTed');
    return postWebhook(textOf(redirect), this.params(callStatus), this.authToken);
  }

  /** The forwarded leg answered: Twilio runs the `<Number url>` on that child call (from the line to the number). */
  async forwardAnswered(twiml: XmlElement): Promise<{ answer: WebhookAnswer; childSid: string; number: string }> {
    const number = childElement(childElement(twiml, 'Dial'), 'Number');
    const url = number.attrs.url;
    if (!url) throw new Error('the <Number> has no url: nothing would screen the call');
    const childSid = twilioSid('CA');
    const answer = await postWebhook(url, this.childParams(childSid, textOf(number)), this.authToken);
    return { answer, childSid, number: textOf(number) };
  }

  /** The person on the forwarded leg pressed `digits` at the prompt: Twilio posts the `<Gather action>`. */
  async pressed(prompt: XmlElement, childSid: string, number: string, digits: string): Promise<WebhookAnswer> {
    const gather = childElement(prompt, 'Gather');
    return postWebhook(gather.attrs.action, this.childParams(childSid, number, { Digits: digits, FinishedOnKey: '' }), this.authToken);
  }

  private childParams(childSid: string, number: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      AccountSid: this.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: childSid,
      ParentCallSid: this.callSid,
      CallStatus: 'in-progress',
      Called: number,
      Caller: this.to,
      Direction: 'outbound-dial',
      From: this.to,
      To: number,
      ...extra,
    };
  }

  /**
   * The status callbacks of one dialled leg (a `<Client>` or `<Number>` of a `<Dial>`), in the order Twilio fires
   * them: each status the leg goes through that its `statusCallbackEvent` subscribes to, numbered by
   * `SequenceNumber` from 0, a second apart from `startMs`. Not posted: a test may shuffle or repeat them.
   */
  legCallbacks(leg: XmlElement, statuses: string[], opts: { legSid?: string; startMs?: number; durationSeconds?: number } = {}): StatusCallback[] {
    const url = leg.attrs.statusCallback;
    if (!url) throw new Error(`the <${leg.name}> has no statusCallback: its progress would not be logged`);
    if ((leg.attrs.statusCallbackMethod ?? 'POST') !== 'POST') throw new Error('the leg status callback is not POSTed');
    const subscribed = (leg.attrs.statusCallbackEvent ?? 'completed').split(' ');
    const legSid = opts.legSid ?? twilioSid('CA');
    const to = leg.name === 'Client' ? `client:${textOf(childElement(leg, 'Identity'))}` : textOf(leg);
    const start = opts.startMs ?? Date.now();
    return statuses
      .filter((status) => subscribed.includes(STATUS_EVENT[status]))
      .map((status, seq) => ({
        url,
        params: this.childParams(legSid, to, {
          CallStatus: status,
          SequenceNumber: String(seq),
          Timestamp: rfc2822(start + seq * 1000),
          CallbackSource: 'call-progress-events',
          ...(status === 'completed' && opts.durationSeconds !== undefined ? { CallDuration: String(opts.durationSeconds), Duration: '1' } : {}),
        }),
      }));
  }

  /** The parent call's own status callback (the number's StatusCallback: posted when the call has ended). */
  parentCallback(url: string, status: string, opts: { atMs?: number; durationSeconds?: number } = {}): StatusCallback {
    return {
      url,
      params: this.params(status, {
        Timestamp: rfc2822(opts.atMs ?? Date.now()),
        CallbackSource: 'call-progress-events',
        SequenceNumber: '0',
        ...(opts.durationSeconds !== undefined ? { CallDuration: String(opts.durationSeconds), Duration: '1' } : {}),
      }),
    };
  }

  /** Posts a status callback, signed like the rest. */
  postCallback(callback: StatusCallback): Promise<WebhookAnswer> {
    return postWebhook(callback.url, callback.params, this.authToken);
  }

  /** The caller left a message: Twilio posts the `<Record action>`. */
  async recorded(twiml: XmlElement, recordingSid: string, seconds: number, callStatus = 'in-progress'): Promise<WebhookAnswer> {
    const record = childElement(twiml, 'Record');
    return postWebhook(
      record.attrs.action,
      this.params(callStatus, {
        RecordingSid: recordingSid,
        RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${this.accountSid}/Recordings/${recordingSid}`,
        RecordingDuration: String(seconds),
        Digits: callStatus === 'completed' ? 'hangup' : '#',
      }),
      this.authToken,
    );
  }

  /** The recording is ready: Twilio posts the `<Record recordingStatusCallback>` (RecordingStatus=completed). */
  async recordingStatus(twiml: XmlElement, recordingSid: string, seconds: number, status = 'completed'): Promise<WebhookAnswer> {
    const record = childElement(twiml, 'Record');
    return postWebhook(record.attrs.recordingStatusCallback, this.recordingStatusParams(recordingSid, seconds, status), this.authToken);
  }

  /** Twilio's recording status callback parameters. */
  recordingStatusParams(recordingSid: string, seconds: number, status = 'completed'): Record<string, string> {
    return {
      AccountSid: this.accountSid,
      CallSid: this.callSid,
      RecordingSid: recordingSid,
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${this.accountSid}/Recordings/${recordingSid}`,
      RecordingStatus: status,
      RecordingDuration: String(seconds),
      RecordingChannels: '1',
      RecordingStartTime: new Date().toUTCString().replace('GMT', '+0000'),
      RecordingSource: 'RecordVerb',
      RecordingTrack: 'both',
    };
  }
}
