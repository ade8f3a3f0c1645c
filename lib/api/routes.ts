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
  PAGE_INTERNAL_ERROR_BODY,
  PAGE_REQUEST_TEMPLATE,
  TWIML_INTERNAL_ERROR_BODY,
  TWIML_SUCCESS_RESPONSE_TEMPLATE,
  jsonErrorBody,
  pageErrorBody,
} from './templates';
import { API_PATHS } from '../../lambda/core/paths';
import { DEVICE_SECRET_LENGTH } from '../../lambda/core/settings';

export const API_NAME = 'twilio_on_aws';
export const STAGE_NAME = 'prod';

export type RouteId =
  | 'token'
  | 'callIncoming'
  | 'callOutgoing'
  | 'callAction'
  | 'forwardScreen'
  | 'recordingStatus'
  | 'callStatus'
  | 'twilioDebugger'
  | 'preflight'
  | 'voicemails'
  | 'directory'
  | 'calls';

/**
 * The functions that serve no route: the page API's authorizer, and the registry upgrade `cdk deploy` runs.
 * With the routes' they make the handler table (lambda/handlers/index.ts).
 */
export const SUPPORT_FUNCTIONS = [
  { id: 'pageAuthorizer', functionName: 'SoftphonePageAuthorizer', description: 'verifies the page’s Twilio Access Token' },
  { id: 'registryUpgrade', functionName: 'SoftphoneRegistryUpgrade', description: 'copies the first release’s devices into lines at deploy' },
] as const;
export type SupportFunctionId = (typeof SUPPORT_FUNCTIONS)[number]['id'];
/** Every Lambda function of the stack: one per route, and the support functions. */
export type FunctionId = RouteId | SupportFunctionId;

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

/** `page`: the route sits behind the page authorizer (a valid Access Token in `Authorization: Bearer …`). */
export type RouteAuthorizer = 'page';

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
  /** Behind the page authorizer; its request template reads `$context.authorizer.identity`. */
  authorizer?: RouteAuthorizer;
}

/**
 * The page authorizer (an API Gateway TOKEN authorizer on the `pageAuthorizer` function): where the token is, the
 * form API Gateway checks before invoking it (a mismatch is 401 without an invocation), and how long an answer is
 * cached per token (short: a removed device's token stops working within the minute, and the handlers check the
 * device anyway).
 */
export const PAGE_AUTHORIZER = {
  identityHeader: 'Authorization',
  validationRegex: '^Bearer [A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
  resultsCacheTtlSeconds: 60,
} as const;

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
    // optional: the identity last signed in as, to check its secret first (a line has several devices)
    clientName: { type: 'string', minLength: 1, maxLength: 121 },
    // optional: what the token is for, `call` (the default) or `preflight` ("Test my setup"); the handler refuses
    // any other value with a 400 (lambda/handlers/token.ts TOKEN_PURPOSES). Bounded here rather than an `enum`: the
    // local validator (lib/api/model-validation.ts) accepts only the keywords of this file so far.
    purpose: { type: 'string', minLength: 1, maxLength: 16 },
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

/** A JSON route's responses: 200 passes the result through; each `[status] body` error answers its body; anything else 500 with a fixed body. */
function jsonIntegrationResponses(statuses: readonly string[], internalErrorBody: string): IntegrationResponseSpec[] {
  return [
    { statusCode: '200', contentType: JSON_CT, template: JSON_SUCCESS_RESPONSE_TEMPLATE, headers: { ...JSON_HEADERS } },
    ...statuses.map((status) => ({
      statusCode: status,
      selectionPattern: statusErrorPattern(status),
      contentType: JSON_CT,
      template: JSON_ERROR_RESPONSE_TEMPLATE,
      headers: { ...JSON_HEADERS },
    })),
    {
      statusCode: '500',
      selectionPattern: catchAllErrorPattern(statuses),
      contentType: JSON_CT,
      template: internalErrorBody,
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

/** The page API's handled error statuses (`pageError` in lambda/core/http-error.ts). */
export const PAGE_ERROR_STATUSES = ['400', '403', '404', '503'] as const;

/** A Twilio webhook: form in, TwiML out, signed. */
function webhookRoute(id: RouteId, functionName: string): RouteSpec {
  return {
    id,
    caller: 'twilio',
    path: API_PATHS[id],
    functionName,
    requestContentType: 'application/x-www-form-urlencoded',
    requestTemplate: FORM_TO_JSON_REQUEST_TEMPLATE,
    integrationResponses: twimlIntegrationResponses(),
  };
}

/** A route of the page's own API: JSON in and out, behind the page authorizer. */
function pageRoute(id: RouteId, functionName: string): RouteSpec {
  return {
    id,
    caller: 'browser',
    path: API_PATHS[id],
    functionName,
    requestContentType: 'application/json',
    requestTemplate: PAGE_REQUEST_TEMPLATE,
    integrationResponses: jsonIntegrationResponses(PAGE_ERROR_STATUSES, PAGE_INTERNAL_ERROR_BODY),
    authorizer: 'page',
  };
}

export const ROUTES: readonly RouteSpec[] = [
  {
    id: 'token',
    caller: 'browser',
    path: API_PATHS.token,
    functionName: 'TwilioRetrieveCapabilityToken',
    requestContentType: 'application/json',
    requestTemplate: JSON_PASSTHROUGH_REQUEST_TEMPLATE,
    requestModel: TOKEN_REQUEST_MODEL,
    integrationResponses: jsonIntegrationResponses(TOKEN_ERROR_STATUSES, JSON_INTERNAL_ERROR_BODY),
  },
  webhookRoute('callIncoming', 'TwilioRetrieveTwimlCallIncoming'),
  webhookRoute('callOutgoing', 'TwilioRetrieveTwimlCallOutgoing'),
  webhookRoute('callAction', 'TwilioRetrieveTwimlCallAction'),
  webhookRoute('forwardScreen', 'TwilioRetrieveTwimlForwardScreen'),
  webhookRoute('recordingStatus', 'TwilioRecordingStatus'),
  webhookRoute('callStatus', 'TwilioCallStatus'),
  webhookRoute('twilioDebugger', 'TwilioDebuggerEvents'),
  webhookRoute('preflight', 'TwilioRetrieveTwimlPreflight'),
  pageRoute('voicemails', 'SoftphoneVoicemails'),
  pageRoute('directory', 'SoftphoneDirectory'),
  pageRoute('calls', 'SoftphoneCalls'),
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

export type GatewayResponseType = 'BAD_REQUEST_BODY' | 'UNSUPPORTED_MEDIA_TYPE' | 'UNAUTHORIZED' | 'DEFAULT_4XX' | 'DEFAULT_5XX';

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
    type: 'UNAUTHORIZED',
    statusCode: '401',
    overrideStatus: true,
    contentType: JSON_CT,
    template: pageErrorBody('Sign in again: the session is missing, expired or not valid.'),
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
export const CORS_ALLOW_HEADERS: readonly string[] = ['Content-Type', 'X-Twilio-Signature', 'Authorization'];

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
