/**
 * Twilio's published contract for the 2010-04-01 REST API (api.twilio.com), read from Twilio's own OpenAPI
 * description (test/support/twilio-oai/twilio_api_v2010.json, vendored unmodified; see the README there),
 * for checking what the test fake of the REST API is asked and what it answers.
 *
 * - `checkRequest` — the path must match one of the spec's path templates (path parameters matched against
 *   their `schema.pattern`), the method must be declared for it, every query parameter must be one the
 *   operation declares `in: query`, every form field one its `application/x-www-form-urlencoded` request body
 *   declares, the `required` ones must be present, and each value must fit its schema.
 * - `checkResponse` — a success answer must be a status the operation declares and its JSON body must validate
 *   against that response's schema (`$ref`s resolved into `components.schemas`); an error answer (4xx/5xx) must
 *   have Twilio's error shape `{code, message, more_info, status}` (the spec declares no error responses).
 *
 * The spec is OpenAPI 3.0.1. Its schemas are converted to plain JSON Schema for ajv (8, draft-07 mode) once,
 * when first needed: `nullable: true` becomes a `null` type (and a `null` enum member), `x-…` vendor keywords
 * and annotations are dropped, and Twilio's formats (`date-time-rfc-2822`, `uri`, `http-method`, …) are defined
 * here. Validators are compiled once per operation and cached. Two departures from the letter of the spec,
 * both following Twilio's own examples in the same file:
 * - **Completeness.** The spec marks no response property `required`, so to the letter `{}` would be a valid
 *   Account. Every example in the spec carries every property its schema declares (null when unset), as real
 *   answers do, so every declared property is required here — except in objects the spec annotates
 *   `@JsonInclude(JsonInclude.Include.NON_NULL)` (e.g. `capabilities`), whose null members are left out.
 *   Undeclared properties are allowed: Twilio's IncomingPhoneNumber examples carry `subresource_uris`, which
 *   the schema does not declare.
 * - **Empty strings.** Twilio's examples answer `""` for unset SID and URL fields (`"voice_application_sid": ""`,
 *   `"sms_url": ""`) although the schema's SID pattern (`^AP[0-9a-fA-F]{32}$`, length 34) and `uri` format do
 *   not admit it; `""` is accepted for those fields, in answers and in requests (where it clears the field).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

export const SPEC_FILE = path.join(__dirname, 'twilio-oai', 'twilio_api_v2010.json');

type Schema = Record<string, unknown>;
type Values = Record<string, string | string[]>;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

interface Spec {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Schema> };
}

export interface ContractRequest {
  method: string;
  /** the URL path, without query string */
  path: string;
  query?: Values;
  form?: Values;
}

export interface ContractResponse {
  method: string;
  path: string;
  status: number;
  /** the parsed JSON body; undefined for an empty body */
  body?: unknown;
}

/** What is wrong with a request; `kind` decides how Twilio would refuse it (404, 405 or 400). */
export type RequestProblemKind = 'path' | 'method' | 'unknown-parameter' | 'missing-parameter' | 'invalid-value';

export interface RequestProblem {
  kind: RequestProblemKind;
  message: string;
}

export interface MatchedPath {
  /** the spec's path template, e.g. `/2010-04-01/Accounts/{AccountSid}/Keys/{Sid}.json` */
  template: string;
  /** the path parameters, decoded */
  params: Record<string, string>;
  /** the methods the spec declares for this path, upper case */
  methods: string[];
  /** the operation for the asked method, if declared */
  operation?: Operation & { method: string };
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const REF_BASE = 'urn:twilio-oai:api-v2010';
const COMPONENTS_PREFIX = '#/components/schemas/';
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

// ---------------------------------------------------------------------------------------------------------
// Schema conversion (OpenAPI 3.0 → JSON Schema for ajv)

/** Keywords whose value is a schema / a map of schemas / an array of schemas. */
const SUBSCHEMA = ['items', 'additionalProperties', 'not'];
const SUBSCHEMA_MAP = ['properties', 'patternProperties'];
const SUBSCHEMA_ARRAY = ['allOf', 'anyOf', 'oneOf'];
/** Annotations and OpenAPI-only keywords, dropped (vendor `x-…` keywords too). */
const DROPPED = new Set([
  'description',
  'example',
  'examples',
  'title',
  'externalDocs',
  'deprecated',
  'readOnly',
  'writeOnly',
  'xml',
  'discriminator',
]);
/** A Twilio SID pattern, e.g. `^AP[0-9a-fA-F]{32}$`. */
const SID_PATTERN = /^\^([A-Z]{2})\[0-9a-fA-F\]\{32\}\$$/;

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function convert(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || DROPPED.has(key) || key === 'nullable') continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENTS_PREFIX)) {
      out.$ref = REF_BASE + value;
    } else if (SUBSCHEMA.includes(key) && isObject(value)) {
      out[key] = convert(value);
    } else if (SUBSCHEMA_MAP.includes(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, isObject(sub) ? convert(sub) : sub]));
    } else if (SUBSCHEMA_ARRAY.includes(key) && Array.isArray(value)) {
      out[key] = value.map((sub) => (isObject(sub) ? convert(sub) : sub));
    } else {
      out[key] = value;
    }
  }
  // "" for an unset SID, as in Twilio's examples (see the file comment)
  const sid = typeof out.pattern === 'string' ? SID_PATTERN.exec(out.pattern) : null;
  if (out.type === 'string' && sid) {
    out.pattern = `^(${sid[1]}[0-9a-fA-F]{32})?$`;
    delete out.minLength;
  }
  // every declared property is present (see the file comment), unless the object leaves out null members
  const annotation = String(schema['x-class-extra-annotation'] ?? '');
  if (isObject(out.properties) && out.required === undefined && !annotation.includes('NON_NULL')) {
    out.required = Object.keys(out.properties);
  }
  if (schema.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    if (out.$ref !== undefined) return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Twilio's formats

const RFC_2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;

const FORMATS: Record<string, (value: string) => boolean> = {
  'date-time-rfc-2822': (v) => RFC_2822.test(v),
  // absolute URLs, and Twilio's own relative URIs (`/2010-04-01/Accounts/AC….json?Page=1`); "" when unset
  uri: (v) => v === '' || (!/\s/.test(v) && (/^[a-z][a-z0-9+.-]*:/i.test(v) || v.startsWith('/'))),
  'http-method': (v) => /^(GET|POST|PUT|PATCH|DELETE|HEAD)$/.test(v),
  // E.164 (and, in list filters, partial numbers with `*` wildcards), or a `client:`/`sip:` address
  'phone-number': (v) => /^\+?[0-9*]{1,20}$/.test(v) || /^[a-z]+:\S+$/i.test(v),
  'iso-country-code': (v) => /^[A-Z]{2}$/.test(v),
  currency: (v) => /^[A-Za-z]{3}$/.test(v),
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)),
  'date-time': (v) => /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)),
};

/** Every `format` value anywhere in the spec (formats on objects and numbers, and unknown ones, validate nothing). */
function formatsIn(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) formatsIn(item, found);
  } else if (isObject(value)) {
    if (typeof value.format === 'string') found.add(value.format);
    for (const [key, sub] of Object.entries(value)) if (key !== 'examples' && key !== 'example') formatsIn(sub, found);
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------
// Loading (once per process)

interface Route {
  template: string;
  regex: RegExp;
  names: string[];
  /** literal characters in the template: the more, the more specific */
  literal: number;
  item: Record<string, unknown>;
}

interface Loaded {
  spec: Spec;
  routes: Route[];
  ajv: Ajv;
  validators: Map<string, ValidateFunction>;
}

let loaded: Loaded | undefined;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function operationsOf(item: Record<string, unknown>): [string, Operation][] {
  return HTTP_METHODS.filter((m) => isObject(item[m])).map((m) => [m.toUpperCase(), item[m] as Operation]);
}

function buildRoute(template: string, item: Record<string, unknown>): Route {
  const names: string[] = [];
  const pathParams = [...((item.parameters as Parameter[] | undefined) ?? []), ...operationsOf(item).flatMap(([, op]) => op.parameters ?? [])].filter(
    (p) => p.in === 'path',
  );
  let regex = '';
  let literal = 0;
  for (const part of template.split(/(\{[^}]+\})/)) {
    const m = /^\{([^}]+)\}$/.exec(part);
    if (!m) {
      regex += escapeRegex(part);
      literal += part.length;
      continue;
    }
    // a named group each: the parameter's own pattern may hold groups, e.g. `^(SM|MM)[0-9a-fA-F]{32}$`
    const pattern = pathParams.find((p) => p.name === m[1] && typeof p.schema?.pattern === 'string')?.schema?.pattern as string | undefined;
    regex += `(?<p${names.length}>${pattern ? pattern.replace(/^\^/, '').replace(/\$$/, '') : '[^/]+'})`;
    names.push(m[1]);
  }
  return { template, regex: new RegExp(`^${regex}$`), names, literal, item };
}

function load(): Loaded {
  if (loaded) return loaded;
  const spec = JSON.parse(readFileSync(SPEC_FILE, 'utf8')) as Spec;
  const formats: Record<string, true | ((v: string) => boolean)> = {};
  for (const name of formatsIn(spec)) formats[name] = FORMATS[name] ?? true;
  const ajv = new Ajv({ strict: false, allErrors: true, verbose: true, validateSchema: false, logger: false, formats });
  const schemas = Object.fromEntries(Object.entries(spec.components.schemas).map(([name, s]) => [name, convert(s)]));
  ajv.addSchema({ $id: REF_BASE, components: { schemas } });
  const routes = Object.entries(spec.paths).map(([template, item]) => buildRoute(template, item));
  routes.sort((a, b) => b.literal - a.literal);
  loaded = { spec, routes, ajv, validators: new Map() };
  return loaded;
}

/** The parsed spec (loaded once). */
export function twilioSpec(): Spec {
  return load().spec;
}

function validator(key: string, schema: Schema): ValidateFunction {
  const { ajv, validators } = load();
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(convert(schema));
    validators.set(key, validate);
  }
  return validate;
}

// ---------------------------------------------------------------------------------------------------------
// Matching

/** The spec's path template a URL path matches, its parameters, and the operation for `method` if declared. */
export function matchPath(method: string, urlPath: string): MatchedPath | undefined {
  for (const route of load().routes) {
    const m = route.regex.exec(urlPath);
    if (!m) continue;
    const params = Object.fromEntries(route.names.map((name, i) => [name, decodeURIComponent(m.groups![`p${i}`])]));
    const operations = operationsOf(route.item);
    const found = operations.find(([verb]) => verb === method.toUpperCase());
    return {
      template: route.template,
      params,
      methods: operations.map(([verb]) => verb),
      operation: found ? { ...found[1], method: found[0] } : undefined,
    };
  }
  return undefined;
}

function operationName(op: Operation & { method: string }): string {
  return op.operationId ?? op.method;
}

// ---------------------------------------------------------------------------------------------------------
// Values

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function schemaTypes(schema: Schema): string[] {
  const t = schema.type;
  return Array.isArray(t) ? (t as string[]) : typeof t === 'string' ? [t] : [];
}

/** A form or query string as the JSON value its schema expects (`"3"` → 3 for an integer, `"true"` → true). */
function coerce(value: string, schema: Schema): unknown {
  const types = schemaTypes(schema);
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (types.includes('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function describeError(error: ErrorObject, root = '$'): string {
  const at =
    root +
    error.instancePath
      .split('/')
      .slice(1)
      .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part.replace(/~1/g, '/').replace(/~0/g, '~')}`))
      .join('');
  const params = error.params as Record<string, unknown>;
  const got = error.keyword === 'required' ? '' : ` (got ${JSON.stringify(error.data)})`;
  switch (error.keyword) {
    case 'required':
      return `${at}: missing property "${String(params.missingProperty)}"`;
    case 'type':
      return `${at}: expected ${String(params.type).split(',').join(' or ')}, got ${typeOf(error.data)}${got}`;
    case 'enum':
      return `${at}: must be one of ${JSON.stringify(params.allowedValues)}${got}`;
    default:
      return `${at}: ${error.message ?? error.keyword}${got}`;
  }
}

function valueProblems(key: string, name: string, values: string[], schema: Schema): string[] {
  const problems: string[] = [];
  const types = schemaTypes(schema);
  const isArray = types.includes('array');
  if (!isArray && values.length > 1) problems.push(`"${name}" given ${values.length} times, but it takes one value`);
  const itemSchema = isArray ? ((schema.items as Schema | undefined) ?? {}) : schema;
  const validate = validator(isArray ? `${key}[]` : key, itemSchema);
  for (const value of values) {
    if (!validate(coerce(value, itemSchema))) {
      problems.push(...(validate.errors ?? []).slice(0, 3).map((e) => describeError(e, name)));
    }
  }
  return problems;
}

function asList(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value];
}

// ---------------------------------------------------------------------------------------------------------
// Requests

/** Every way `req` departs from the spec, with how Twilio would refuse it. */
export function requestProblems(req: ContractRequest): RequestProblem[] {
  const method = req.method.toUpperCase();
  const where = `${method} ${req.path}`;
  const match = matchPath(method, req.path);
  if (!match) return [{ kind: 'path', message: `${where}: no path template of Twilio's API (2010-04-01) matches this path` }];
  const op = match.operation;
  if (!op) {
    return [{ kind: 'method', message: `${where}: ${match.template} has no ${method} operation (declared: ${match.methods.join(', ')})` }];
  }
  const name = operationName(op);
  const problems: RequestProblem[] = [];
  const add = (kind: RequestProblemKind, text: string) => problems.push({ kind, message: `${where}: ${name}: ${text}` });

  // query parameters
  const declaredQuery = new Map((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p]));
  const query = req.query ?? {};
  for (const [key, value] of Object.entries(query)) {
    const param = declaredQuery.get(key);
    if (!param) {
      const known = [...declaredQuery.keys()];
      add('unknown-parameter', `query parameter "${key}" is not declared (declared: ${known.length ? known.join(', ') : 'none'})`);
    } else if (param.schema) {
      for (const p of valueProblems(`${name}?${key}`, key, asList(value), param.schema)) add('invalid-value', `query parameter ${p}`);
    }
  }
  for (const param of declaredQuery.values()) {
    if (param.required && !(param.name in query)) add('missing-parameter', `required query parameter "${param.name}" is missing`);
  }

  // form fields
  const form = req.form ?? {};
  const bodySchema = op.requestBody?.content?.[FORM]?.schema;
  const properties = (bodySchema?.properties as Record<string, Schema> | undefined) ?? {};
  for (const [key, value] of Object.entries(form)) {
    const schema = properties[key];
    if (!schema) {
      const known = Object.keys(properties);
      add(
        'unknown-parameter',
        bodySchema
          ? `form field "${key}" is not declared (declared: ${known.join(', ')})`
          : `form field "${key}" sent, but ${name} takes no request body`,
      );
    } else {
      for (const p of valueProblems(`${name}#${key}`, key, asList(value), schema)) add('invalid-value', `form field ${p}`);
    }
  }
  for (const field of (bodySchema?.required as string[] | undefined) ?? []) {
    if (!(field in form)) add('missing-parameter', `required form field "${field}" is missing`);
  }
  return problems;
}

/** The violations of Twilio's published contract in a request (empty = conforms). */
export function checkRequest(req: ContractRequest): string[] {
  return requestProblems(req).map((p) => p.message);
}

// ---------------------------------------------------------------------------------------------------------
// Responses

const ERROR_SHAPE: Schema = {
  type: 'object',
  required: ['code', 'message', 'more_info', 'status'],
  properties: {
    code: { type: 'integer' },
    message: { type: 'string' },
    more_info: { type: 'string', format: 'uri' },
    status: { type: 'integer' },
  },
};

/** The violations of Twilio's published contract in an answer (empty = conforms). */
export function checkResponse(res: ContractResponse): string[] {
  const method = res.method.toUpperCase();
  const where = `${method} ${res.path} → ${res.status}`;
  if (res.status >= 400) {
    const validate = validator('#error', ERROR_SHAPE);
    const problems = validate(res.body) ? [] : (validate.errors ?? []).map((e) => describeError(e));
    const status = (res.body as { status?: unknown } | undefined)?.status;
    if (problems.length === 0 && status !== res.status) problems.push(`$.status: ${String(status)} differs from the HTTP status`);
    return problems.map((p) => `${where}: error body not in Twilio's error shape {code, message, more_info, status}: ${p}`);
  }
  const match = matchPath(method, res.path);
  if (!match?.operation) return [`${where}: answered, but Twilio's API declares no ${method} ${match ? match.template : 'operation for this path'}`];
  const op = match.operation;
  const name = operationName(op);
  const declared = op.responses?.[String(res.status)];
  if (!declared) {
    return [`${where}: ${name} declares no ${res.status} answer (declared: ${Object.keys(op.responses ?? {}).join(', ')})`];
  }
  const schema = declared.content?.[JSON_TYPE]?.schema;
  if (!schema) return res.body === undefined ? [] : [`${where}: ${name} declares no body for ${res.status}, but one was sent`];
  if (res.body === undefined) return [`${where}: ${name} declares a JSON body for ${res.status}, but none was sent`];
  const validate = validator(`${name} ${res.status}`, schema);
  if (validate(res.body)) return [];
  return (validate.errors ?? []).map((e) => `${where}: ${name} answer: ${describeError(e)}`);
}
