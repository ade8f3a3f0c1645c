/**
 * The single source of truth for the REST API (docs/architecture.md): routes, request templates, the token
 * request model, integration responses (selection patterns + templates), gateway responses and CORS values.
 *
 * Consumers: the CDK construct (`lib/constructs/…`) deploys exactly this; the local app (`lib/local/…`)
 * plays API Gateway with it and the renderer in `lib/vtl/`. Neither should hard-code any of these values.
 */
import {
  EMPTY_RESPONSE_TEMPLATE,
  FORM_TO_JSON_REQUEST_TEMPLATE,
  JSON_ERROR_RESPONSE_TEMPLATE,
  JSON_INTERNAL_ERROR_BODY,
  JSON_PASSTHROUGH_REQUEST_TEMPLATE,
  JSON_SUCCESS_RESPONSE_TEMPLATE,
  TWIML_INTERNAL_ERROR_BODY,
  TWIML_SUCCESS_RESPONSE_TEMPLATE,
  jsonErrorBody,
} from './templates';
import { DEVICE_SECRET_LENGTH } from '../../lambda/core/settings';

export const API_NAME = 'twilio_on_aws';
export const STAGE_NAME = 'prod';

export type RouteId = 'token' | 'callIncoming' | 'callOutgoing';

export interface IntegrationResponseSpec {
  /** '200', '400', … */
  statusCode: string;
  /**
   * A regex matched against the Lambda `errorMessage`; `undefined` = the default (success) response.
   * Only syntax that Java and JavaScript regexes share; written to give the same answer whether it is
   * applied as a full match (Java `matches()`) or as a search anchored with `^`. No pattern matches the
   * empty string, which is what API Gateway matches for a successful invocation.
   */
  selectionPattern?: string;
  /** Response template key: 'application/json' | 'application/xml'. */
  contentType: string;
  /** VTL. */
  template: string;
  /** Static method-response header values, e.g. { 'Content-Type': 'text/xml' } (CORS is added by the consumer). */
  headers: Record<string, string>;
}

/** Who calls a route: the softphone page (CORS, the browser throttle) or Twilio (signed webhooks, their own throttle). */
export type RouteCaller = 'browser' | 'twilio';

export interface RouteSpec {
  id: RouteId;
  caller: RouteCaller;
  /** '/twilio/retrieve_capability_token' */
  path: string;
  /** 'TwilioRetrieveCapabilityToken' (the walkthrough's names) */
  functionName: string;
  requestContentType: 'application/json' | 'application/x-www-form-urlencoded';
  requestTemplate: string;
  /** JSON Schema draft 4 (token route). */
  requestModel?: object;
  /** CORS header added by the consumer with the allowed origin. */
  integrationResponses: IntegrationResponseSpec[];
}

/** The HTTP method of every route (besides the OPTIONS preflight). */
export const ROUTE_METHOD = 'POST';

/** The name to give the token request model in API Gateway (alphanumeric, as API Gateway requires). */
export const TOKEN_REQUEST_MODEL_NAME = 'CapabilityTokenRequest';

/**
 * The token request model: JSON Schema draft 4. Both fields are required, non-empty, bounded strings; other
 * properties are tolerated (the handler ignores them).
 */
export const TOKEN_REQUEST_MODEL = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  title: TOKEN_REQUEST_MODEL_NAME,
  type: 'object',
  required: ['twilioPhoneNumber', 'deviceSecret'],
  properties: {
    twilioPhoneNumber: { type: 'string', minLength: 1, maxLength: 32 },
    deviceSecret: { type: 'string', minLength: 1, maxLength: DEVICE_SECRET_LENGTH.max },
  },
} as const;

/** The token route's handled error statuses (`lambda/core/http-error.ts` throws `"[<status>] <json>"`). */
export const TOKEN_ERROR_STATUSES = ['400', '403', '429', '503'] as const;

/** `^\[403\] [\s\S]*`: a handler error of that status (`[\s\S]`, unlike `.`, also spans line breaks). */
export function statusErrorPattern(status: string): string {
  return `^\\[${status}\\] [\\s\\S]*`;
}

/** Any non-empty error message that does not start with one of the given `[<status>] ` prefixes. */
export function catchAllErrorPattern(statuses: readonly string[]): string {
  const alternatives = statuses.length === 1 ? statuses[0] : `(${statuses.join('|')})`;
  return `^(?!\\[${alternatives}\\] )[\\s\\S]+`;
}

const JSON_CT = 'application/json';
const XML_CT = 'application/xml';
const JSON_HEADERS: Record<string, string> = { 'Content-Type': 'application/json' };
const XML_HEADERS: Record<string, string> = { 'Content-Type': 'text/xml' };

function tokenIntegrationResponses(): IntegrationResponseSpec[] {
  return [
    { statusCode: '200', contentType: JSON_CT, template: JSON_SUCCESS_RESPONSE_TEMPLATE, headers: { ...JSON_HEADERS } },
    ...TOKEN_ERROR_STATUSES.map((status) => ({
      statusCode: status,
      selectionPattern: statusErrorPattern(status),
      contentType: JSON_CT,
      template: JSON_ERROR_RESPONSE_TEMPLATE,
      headers: { ...JSON_HEADERS },
    })),
    {
      statusCode: '500',
      selectionPattern: catchAllErrorPattern(TOKEN_ERROR_STATUSES),
      contentType: JSON_CT,
      template: JSON_INTERNAL_ERROR_BODY,
      headers: { ...JSON_HEADERS },
    },
  ];
}

function twimlIntegrationResponses(): IntegrationResponseSpec[] {
  return [
    { statusCode: '200', contentType: XML_CT, template: TWIML_SUCCESS_RESPONSE_TEMPLATE, headers: { ...XML_HEADERS } },
    {
      statusCode: '403',
      selectionPattern: statusErrorPattern('403'),
      contentType: XML_CT,
      template: EMPTY_RESPONSE_TEMPLATE,
      headers: { ...XML_HEADERS },
    },
    {
      statusCode: '500',
      selectionPattern: catchAllErrorPattern(['403']),
      contentType: XML_CT,
      template: TWIML_INTERNAL_ERROR_BODY,
      headers: { ...XML_HEADERS },
    },
  ];
}

export const ROUTES: readonly RouteSpec[] = [
  {
    id: 'token',
    caller: 'browser',
    path: '/twilio/retrieve_capability_token',
    functionName: 'TwilioRetrieveCapabilityToken',
    requestContentType: 'application/json',
    requestTemplate: JSON_PASSTHROUGH_REQUEST_TEMPLATE,
    requestModel: TOKEN_REQUEST_MODEL,
    integrationResponses: tokenIntegrationResponses(),
  },
  {
    id: 'callIncoming',
    caller: 'twilio',
    path: '/twilio/retrieve_twiml/call_incoming',
    functionName: 'TwilioRetrieveTwimlCallIncoming',
    requestContentType: 'application/x-www-form-urlencoded',
    requestTemplate: FORM_TO_JSON_REQUEST_TEMPLATE,
    integrationResponses: twimlIntegrationResponses(),
  },
  {
    id: 'callOutgoing',
    caller: 'twilio',
    path: '/twilio/retrieve_twiml/call_outgoing',
    functionName: 'TwilioRetrieveTwimlCallOutgoing',
    requestContentType: 'application/x-www-form-urlencoded',
    requestTemplate: FORM_TO_JSON_REQUEST_TEMPLATE,
    integrationResponses: twimlIntegrationResponses(),
  },
];

/** The route with that id (throws on an unknown id). */
export function routeById(id: RouteId): RouteSpec {
  const route = ROUTES.find((r) => r.id === id);
  if (!route) throw new Error(`Unknown route id: ${id}`);
  return route;
}

/** The route at that resource path (e.g. '/twilio/retrieve_capability_token'), or undefined. */
export function routeByPath(path: string): RouteSpec | undefined {
  return ROUTES.find((r) => r.path === path);
}

/**
 * Which integration response API Gateway picks for a Lambda result: `errorMessage` undefined (success) → the
 * default response; otherwise the first response whose selection pattern matches the WHOLE message (Java
 * `Pattern.matches`), else the default response.
 */
export function selectIntegrationResponse(responses: readonly IntegrationResponseSpec[], errorMessage: string | undefined): IntegrationResponseSpec {
  const fallback = responses.find((r) => r.selectionPattern === undefined);
  if (!fallback) throw new Error('No default integration response');
  if (errorMessage === undefined) return fallback;
  const match = responses.find((r) => r.selectionPattern !== undefined && new RegExp(`^(?:${r.selectionPattern})$`).test(errorMessage));
  return match ?? fallback;
}

// ---------------------------------------------------------------------------------------------------------
// Gateway responses

export type GatewayResponseType = 'BAD_REQUEST_BODY' | 'UNSUPPORTED_MEDIA_TYPE' | 'DEFAULT_4XX' | 'DEFAULT_5XX';

export interface GatewayResponseSpec {
  /** API Gateway's response type (CDK: `ResponseType.of(type)`). */
  type: GatewayResponseType;
  /** The status to answer; for DEFAULT_4XX/5XX the status of the underlying error. */
  statusCode: string;
  /** Whether `statusCode` is set on the gateway response (false: API Gateway keeps the error's own status). */
  overrideStatus: boolean;
  /** Template key. */
  contentType: 'application/json';
  /** The JSON body (a VTL template without variables). */
  template: string;
}

/** Static message for a body the token model refuses. */
export const BAD_REQUEST_BODY_MESSAGE =
  'Invalid request body: a JSON object with non-empty string fields "twilioPhoneNumber" and "deviceSecret" is required.';

export const GATEWAY_RESPONSES: readonly GatewayResponseSpec[] = [
  {
    type: 'BAD_REQUEST_BODY',
    statusCode: '400',
    overrideStatus: true,
    contentType: JSON_CT,
    template: jsonErrorBody(BAD_REQUEST_BODY_MESSAGE),
  },
  {
    type: 'UNSUPPORTED_MEDIA_TYPE',
    statusCode: '415',
    overrideStatus: true,
    contentType: JSON_CT,
    template: jsonErrorBody('Unsupported media type.'),
  },
  {
    type: 'DEFAULT_4XX',
    statusCode: '400',
    overrideStatus: false,
    contentType: JSON_CT,
    template: jsonErrorBody('The request was refused.'),
  },
  {
    type: 'DEFAULT_5XX',
    statusCode: '500',
    overrideStatus: false,
    contentType: JSON_CT,
    template: jsonErrorBody('Internal server error. Please try again later.'),
  },
];

export function gatewayResponse(type: GatewayResponseType): GatewayResponseSpec {
  const spec = GATEWAY_RESPONSES.find((g) => g.type === type);
  if (!spec) throw new Error(`Unknown gateway response type: ${type}`);
  return spec;
}

// ---------------------------------------------------------------------------------------------------------
// CORS

export const CORS_ALLOW_METHODS: readonly string[] = ['POST', 'OPTIONS'];
export const CORS_ALLOW_HEADERS: readonly string[] = ['Content-Type', 'X-Twilio-Signature'];

/** Headers every response (method, integration, gateway) carries: plain values, e.g. for the local app. */
export function corsHeaders(allowedOrigin: string): Record<string, string> {
  return { 'Access-Control-Allow-Origin': allowedOrigin };
}

/** Headers of the OPTIONS preflight answer (204/200): plain values. */
export function preflightHeaders(allowedOrigin: string): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': allowedOrigin,
    'Access-Control-Allow-Methods': CORS_ALLOW_METHODS.join(', '),
    'Access-Control-Allow-Headers': CORS_ALLOW_HEADERS.join(', '),
  };
}

/**
 * A plain header value as an API Gateway static mapping value: `'value'` (single-quoted), as
 * `method.response.header.X` parameter mappings and gateway response headers need. Refuses values that
 * contain a single quote, which API Gateway cannot express.
 */
export function staticHeaderValue(value: string): string {
  if (value.includes("'")) throw new Error(`A static header value cannot contain a single quote: ${value}`);
  return `'${value}'`;
}

/** `corsHeaders`/`preflightHeaders`/`headers` → `{ 'method.response.header.<Name>': "'<value>'" }`. */
export function toResponseParameters(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [`method.response.header.${name}`, staticHeaderValue(value)]));
}

/** `corsHeaders`/… → gateway response headers `{ '<Name>': "'<value>'" }` (CDK `responseHeaders`). */
export function toGatewayResponseHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, staticHeaderValue(value)]));
}
