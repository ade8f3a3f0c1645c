import {
  GATEWAY_RESPONSES,
  PAGE_AUTHORIZER,
  ROUTES,
  TOKEN_REQUEST_MODEL,
  corsHeaders,
  gatewayResponse,
  preflightHeaders,
  routeById,
  routeByPath,
  selectIntegrationResponse,
  staticHeaderValue,
  toGatewayResponseHeaders,
  toResponseParameters,
} from '../../lib/api/routes';
import type { IntegrationResponseSpec, RouteSpec } from '../../lib/api/routes';
import { bodyModelErrors, modelErrors } from '../../lib/api/model-validation';
import { TWIML_INTERNAL_ERROR_BODY } from '../../lib/api/templates';
import { createGatewayContext, lambdaErrorPayload, lambdaResultPayload, renderResponseTemplate } from '../../lib/vtl';
import type { GatewayRequest } from '../../lib/vtl';

const request: GatewayRequest = {
  body: '',
  headers: {},
  context: createGatewayContext({ domainName: 'd', path: '/prod/x', resourcePath: '/x' }),
};

describe('routes', () => {
  // (The API's own name and stage, twilio_on_aws and prod, are checked where they matter: in the synthesized
  // template, test/infra/stack.test.ts.)
  it('are the walkthrough API with its function names, and the team lines’ webhooks and page API', () => {
    expect(ROUTES.map((r) => [r.id, r.path, r.functionName, r.requestContentType])).toEqual([
      ['token', '/twilio/retrieve_capability_token', 'TwilioRetrieveCapabilityToken', 'application/json'],
      ['callIncoming', '/twilio/retrieve_twiml/call_incoming', 'TwilioRetrieveTwimlCallIncoming', 'application/x-www-form-urlencoded'],
      ['callOutgoing', '/twilio/retrieve_twiml/call_outgoing', 'TwilioRetrieveTwimlCallOutgoing', 'application/x-www-form-urlencoded'],
      ['callAction', '/twilio/retrieve_twiml/call_action', 'TwilioRetrieveTwimlCallAction', 'application/x-www-form-urlencoded'],
      ['forwardScreen', '/twilio/retrieve_twiml/forward_screen', 'TwilioRetrieveTwimlForwardScreen', 'application/x-www-form-urlencoded'],
      ['recordingStatus', '/twilio/recording_status', 'TwilioRecordingStatus', 'application/x-www-form-urlencoded'],
      ['callStatus', '/twilio/call_status', 'TwilioCallStatus', 'application/x-www-form-urlencoded'],
      // Twilio's Debugger events (TwilioAlerts) and the "Test my setup" call's TwiML
      ['twilioDebugger', '/twilio/debugger_events', 'TwilioDebuggerEvents', 'application/x-www-form-urlencoded'],
      ['preflight', '/twilio/retrieve_twiml/preflight', 'TwilioRetrieveTwimlPreflight', 'application/x-www-form-urlencoded'],
      ['voicemails', '/softphone/voicemails', 'SoftphoneVoicemails', 'application/json'],
      ['directory', '/softphone/directory', 'SoftphoneDirectory', 'application/json'],
      ['calls', '/softphone/calls', 'SoftphoneCalls', 'application/json'],
    ]);
    // who calls each (its throttle: test/infra/stack.test.ts): the page the token API and its own API, Twilio the webhooks
    expect(ROUTES.map((r) => [r.id, r.caller])).toEqual([
      ['token', 'browser'],
      ['callIncoming', 'twilio'],
      ['callOutgoing', 'twilio'],
      ['callAction', 'twilio'],
      ['forwardScreen', 'twilio'],
      ['recordingStatus', 'twilio'],
      ['callStatus', 'twilio'],
      ['twilioDebugger', 'twilio'],
      ['preflight', 'twilio'],
      ['voicemails', 'browser'],
      ['directory', 'browser'],
      ['calls', 'browser'],
    ]);
    // only the page API sits behind the page authorizer (the token API is how a page gets its token; Twilio signs)
    expect(ROUTES.filter((r) => r.authorizer !== undefined).map((r) => [r.id, r.authorizer])).toEqual([
      ['voicemails', 'page'],
      ['directory', 'page'],
      ['calls', 'page'],
    ]);
    expect(routeByPath('/twilio/retrieve_capability_token')?.id).toBe('token');
    expect(routeByPath('/twilio/call_status')?.id).toBe('callStatus');
    expect(routeByPath('/softphone/calls')?.id).toBe('calls');
    expect(routeByPath('/twilio/retrieve_twiml/call_action')?.id).toBe('callAction');
    expect(routeByPath('/nope')).toBeUndefined();
  });

  it('the page authorizer takes a Bearer JWT from Authorization, its answers cached briefly', () => {
    const re = new RegExp(PAGE_AUTHORIZER.validationRegex);
    expect(PAGE_AUTHORIZER.identityHeader).toBe('Authorization');
    expect(re.test('Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl')).toBe(true);
    for (const bad of ['eyJ.x.y', 'Bearer eyJ.x', 'Bearer eyJ.x.y.z', 'Basic dXNlcjpwYXNz', 'Bearer a.b.c ', 'Bearer a.b+.c', ''])
      expect([bad, re.test(bad)]).toEqual([bad, false]);
    expect(PAGE_AUTHORIZER.resultsCacheTtlSeconds).toBeGreaterThan(0);
    expect(PAGE_AUTHORIZER.resultsCacheTtlSeconds).toBeLessThanOrEqual(300);
  });

  it('each have exactly one default (success) integration response, with status 200', () => {
    for (const route of ROUTES) {
      const defaults = route.integrationResponses.filter((r) => r.selectionPattern === undefined);
      expect(defaults).toHaveLength(1);
      expect(defaults[0].statusCode).toBe('200');
      expect(new Set(route.integrationResponses.map((r) => r.statusCode)).size).toBe(route.integrationResponses.length);
    }
  });

  it('answer TwiML as text/xml from an application/xml template, token and page JSON as application/json', () => {
    for (const id of ['callIncoming', 'callOutgoing', 'callAction', 'forwardScreen', 'recordingStatus', 'callStatus'] as const) {
      for (const r of routeById(id).integrationResponses) {
        expect(r.contentType).toBe('application/xml');
        expect(r.headers).toEqual({ 'Content-Type': 'text/xml' });
      }
    }
    for (const id of ['token', 'voicemails', 'directory', 'calls'] as const) {
      for (const r of routeById(id).integrationResponses) {
        expect(r.contentType).toBe('application/json');
        expect(r.headers).toEqual({ 'Content-Type': 'application/json' });
      }
    }
  });
});

describe('the token request model (JSON Schema draft 4)', () => {
  // lib/api/model-validation checks the model with ajv-draft-04, as the local app's gateway does.
  const validate = (body: unknown): boolean => modelErrors(TOKEN_REQUEST_MODEL, body).length === 0;

  it('is a draft-4 schema on the token route', () => {
    expect(TOKEN_REQUEST_MODEL.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(routeById('token').requestModel).toBe(TOKEN_REQUEST_MODEL);
  });

  it.each([
    [{ twilioPhoneNumber: '+81-50-3123-4567', deviceSecret: 's' }],
    [{ twilioPhoneNumber: '+815031234567', deviceSecret: 'x'.repeat(256), extra: 'tolerated' }],
    [{ twilioPhoneNumber: '+815031234567', deviceSecret: 's', clientName: 'DeviceId_0001' }], // the identity last signed in as
    [{ twilioPhoneNumber: '+815031234567', deviceSecret: 's', clientName: 'x'.repeat(121) }],
  ])('accepts %j', (body) => {
    expect(validate(body)).toBe(true);
  });

  it.each([
    ['the walkthrough body (no device secret)', { twilioPhoneNumber: '+81-50-3123-4567' }],
    ['no phone number', { deviceSecret: 's' }],
    ['an empty phone number', { twilioPhoneNumber: '', deviceSecret: 's' }],
    ['an empty secret', { twilioPhoneNumber: '+1', deviceSecret: '' }],
    ['a number instead of a string', { twilioPhoneNumber: 815031234567, deviceSecret: 's' }],
    ['an over-long phone number', { twilioPhoneNumber: '1'.repeat(33), deviceSecret: 's' }],
    ['an over-long secret', { twilioPhoneNumber: '+1', deviceSecret: 'x'.repeat(257) }],
    ['an empty client name', { twilioPhoneNumber: '+1', deviceSecret: 's', clientName: '' }],
    ['an over-long client name', { twilioPhoneNumber: '+1', deviceSecret: 's', clientName: 'x'.repeat(122) }],
    ['a client name not a string', { twilioPhoneNumber: '+1', deviceSecret: 's', clientName: 1 }],
    ['an array', [{ twilioPhoneNumber: '+1', deviceSecret: 's' }]],
    ['a string', 'twilioPhoneNumber'],
    ['null', null],
  ])('refuses %s', (_name, body) => {
    expect(validate(body)).toBe(false);
  });

  it('counts code points, refuses non-JSON bodies and unknown schema keywords', () => {
    expect(validate({ twilioPhoneNumber: '😀'.repeat(32), deviceSecret: 's' })).toBe(true);
    expect(bodyModelErrors(TOKEN_REQUEST_MODEL, '{"twilioPhoneNumber":"+1","deviceSecret":"s"}')).toEqual([]);
    expect(bodyModelErrors(TOKEN_REQUEST_MODEL, 'twilioPhoneNumber=+1')).not.toEqual([]);
    expect(bodyModelErrors(TOKEN_REQUEST_MODEL, '')).not.toEqual([]);
    expect(modelErrors(TOKEN_REQUEST_MODEL, {})).toEqual([
      '$: missing required property twilioPhoneNumber',
      '$: missing required property deviceSecret',
    ]);
    expect(() => modelErrors({ type: 'string', pattern: 'x' }, 'x')).toThrow(/pattern/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Selection patterns

const TOKEN_ERROR = (status: number, error: string): string => `[${status}] ${JSON.stringify({ success: false, capabilityToken: null, error })}`;

const TIMEOUT = 'Task timed out after 5.00 seconds';
const TIMEOUT_WITH_PREFIX = '2025-01-01T00:00:00.000Z 3f1b5c1e-0000-4000-8000-000000000000 Task timed out after 5.00 seconds';
const CRASH =
  "TypeError: Cannot read properties of undefined (reading 'phoneNumber')\n" +
  '    at handler (/var/task/index.js:1:2345)\n' +
  '    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)';

const tokenCases: Array<[string, string, string]> = [
  ['a 400', TOKEN_ERROR(400, 'Invalid phone number.'), '400'],
  ['a 403', TOKEN_ERROR(403, 'Unknown phone number or wrong device secret.'), '403'],
  ['a 429', TOKEN_ERROR(429, 'Too many attempts. Try again later.'), '429'],
  ['a 503', TOKEN_ERROR(503, 'Temporarily unavailable.'), '503'],
  ['a 403 with a line break in it', '[403] {"error":"a\nb"}', '403'],
  ['a Lambda timeout', TIMEOUT, '500'],
  ['a Lambda timeout with its log prefix', TIMEOUT_WITH_PREFIX, '500'],
  ['a stack-traced crash', CRASH, '500'],
  ['an unknown status', '[404] {"error":"x"}', '500'],
  ['a status without the space', '[403]{"error":"x"}', '500'],
  ['a status not at the start', 'oops [403] {"error":"x"}', '500'],
  ['a status alone', '[403] ', '403'],
  ['a line break before the status', '\n[403] x', '500'],
];

const PAGE_ERROR = (status: number, error: string): string => `[${status}] ${JSON.stringify({ success: false, error })}`;

const pageCases: Array<[string, string, string]> = [
  ['a 400', PAGE_ERROR(400, 'The request body must be a JSON object.'), '400'],
  ['a 403', PAGE_ERROR(403, 'Sign in again.'), '403'],
  ['a 404', PAGE_ERROR(404, 'No such voicemail.'), '404'],
  ['a 503', PAGE_ERROR(503, 'Temporarily unavailable.'), '503'],
  ['a Lambda timeout', TIMEOUT, '500'],
  ['a stack-traced crash', CRASH, '500'],
  ['an unknown status', '[429] {"error":"x"}', '500'],
  ['a status not at the start', 'oops [403] {"error":"x"}', '500'],
];

const twimlCases: Array<[string, string, string]> = [
  ['the signature failure', '[403] Forbidden', '403'],
  ['a token-style 503', TOKEN_ERROR(503, 'x'), '500'],
  ['a 400', '[400] bad', '500'],
  ['a Lambda timeout', TIMEOUT, '500'],
  ['a stack-traced crash', CRASH, '500'],
  ['a 403 with a line break', '[403] a\nb', '403'],
];

/** Java `Pattern.matches` (whole message) — what API Gateway does — approximated in JS with ^(?:…)$. */
const fullMatch = (pattern: string, message: string): boolean => new RegExp(`^(?:${pattern})$`).test(message);
/** A search (`find`) of the pattern, in case the matching were not anchored at the end. */
const search = (pattern: string, message: string): boolean => new RegExp(pattern).test(message);

function patterns(route: RouteSpec): IntegrationResponseSpec[] {
  return route.integrationResponses.filter((r) => r.selectionPattern !== undefined);
}

describe.each([
  ['token', tokenCases],
  ['callIncoming', twimlCases],
  ['callOutgoing', twimlCases],
  ['callAction', twimlCases],
  ['forwardScreen', twimlCases],
  ['recordingStatus', twimlCases],
  ['callStatus', twimlCases],
  ['voicemails', pageCases],
  ['directory', pageCases],
  ['calls', pageCases],
] as const)('selection patterns of %s', (id, cases) => {
  const route = routeById(id);

  it.each(cases)('select the right status for %s', (_name, message, status) => {
    expect(selectIntegrationResponse(route.integrationResponses, message).statusCode).toBe(status);
  });

  it.each(cases)('are mutually exclusive and give the same answer under full-match and search semantics (%s)', (_name, message, status) => {
    const full = patterns(route).filter((r) => fullMatch(r.selectionPattern!, message));
    const found = patterns(route).filter((r) => search(r.selectionPattern!, message));
    expect(full.map((r) => r.statusCode)).toEqual([status]);
    expect(found.map((r) => r.statusCode)).toEqual([status]);
  });

  it('never match the empty string, which API Gateway matches for a successful invocation', () => {
    for (const r of patterns(route)) {
      expect(fullMatch(r.selectionPattern!, '')).toBe(false);
      expect(search(r.selectionPattern!, '')).toBe(false);
    }
    expect(selectIntegrationResponse(route.integrationResponses, undefined).statusCode).toBe('200');
  });

  it('use only regex syntax Java and JavaScript share (anchors, escapes, classes, groups, negative lookahead)', () => {
    for (const r of patterns(route)) {
      // no lookbehind, named groups, possessive quantifiers, \p{…}, \A/\z, inline flags or unicode escapes
      expect(r.selectionPattern).not.toMatch(/\(\?<|\(\?[a-z]|\+\+|\*\+|\\[pPAzZQEu]|\$\{/);
      expect(r.selectionPattern).toMatch(/^\^/);
      expect(() => new RegExp(r.selectionPattern!)).not.toThrow();
    }
  });
});

describe('integration response templates', () => {
  const token = routeById('token');
  const incoming = routeById('callIncoming');
  const byStatus = (route: RouteSpec, status: string): IntegrationResponseSpec => route.integrationResponses.find((r) => r.statusCode === status)!;
  const respond = (route: RouteSpec, outcome: { value: unknown } | { error: Error }): { status: string; body: string } => {
    const payload = 'error' in outcome ? lambdaErrorPayload(outcome.error) : lambdaResultPayload(outcome.value);
    const spec = selectIntegrationResponse(route.integrationResponses, 'error' in outcome ? outcome.error.message : undefined);
    return { status: spec.statusCode, body: renderResponseTemplate(spec.template, payload, request) };
  };

  it('token 200 passes the success object through', () => {
    const success = {
      success: true,
      capabilityToken: 'eyJ.x.y',
      identity: 'DeviceId_0001',
      line: '+815031234567',
      expiresAt: '2025-01-01T00:00:00.000Z',
    };
    const { status, body } = respond(token, { value: success });
    expect(status).toBe('200');
    expect(JSON.parse(body)).toEqual(success);
  });

  it.each([400, 403, 429, 503])('token %d answers the JSON body of the error message', (code) => {
    const errorBody = { success: false, capabilityToken: null, error: `Error "${code}" with 'quotes', \\ and 日本 😀` };
    const { status, body } = respond(token, { error: new Error(`[${code}] ${JSON.stringify(errorBody)}`) });
    expect(status).toBe(String(code));
    expect(JSON.parse(body)).toEqual(errorBody);
  });

  it.each([
    ['a timeout', TIMEOUT],
    ['a crash', CRASH],
  ])('token 500 for %s: a fixed JSON error that leaks nothing', (_name, message) => {
    const { status, body } = respond(token, { error: new Error(message) });
    expect(status).toBe('500');
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect(parsed).toMatchObject({ success: false, capabilityToken: null });
    expect(typeof parsed.error).toBe('string');
    expect(body).not.toMatch(/TypeError|var\/task|timed out/);
  });

  it('TwiML 200 returns the document raw, not as a JSON string', () => {
    const twiml =
      '<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="60" callerId="+81-50-3123-4567"><Number>+81-90-5987-6543</Number></Dial></Response>';
    expect(respond(incoming, { value: twiml })).toEqual({ status: '200', body: twiml });
  });

  it('TwiML 403 has an empty body', () => {
    expect(respond(incoming, { error: new Error('[403] Forbidden') })).toEqual({ status: '403', body: '' });
  });

  it('TwiML 500 is a fixed, valid TwiML document', () => {
    const { status, body } = respond(incoming, { error: new Error(CRASH) });
    expect(status).toBe('500');
    expect(body).toBe(TWIML_INTERNAL_ERROR_BODY);
    expect(body).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?><Response>(<Say>[^<>&$#]*<\/Say>)?<Hangup\/><\/Response>$/);
    for (const id of ['callIncoming', 'callOutgoing', 'callAction', 'forwardScreen', 'recordingStatus', 'callStatus'] as const)
      expect(byStatus(routeById(id), '500').template).toBe(TWIML_INTERNAL_ERROR_BODY);
  });

  it('page API: 200 passes the result through; 400/403/404/503 answer the error body; 500 a fixed JSON error that leaks nothing', () => {
    const directory = routeById('directory');
    const result = { success: true, you: 'DeviceId_0001', members: [{ clientName: 'DeviceId_0001', label: '日本 "desk" 😀' }] };
    expect(respond(directory, { value: result })).toEqual({ status: '200', body: expect.any(String) });
    expect(JSON.parse(respond(directory, { value: result }).body)).toEqual(result);
    for (const code of [400, 403, 404, 503]) {
      const errorBody = { success: false, error: `Error "${code}" with 'quotes', \\ and 日本` };
      const { status, body } = respond(directory, { error: new Error(`[${code}] ${JSON.stringify(errorBody)}`) });
      expect([status, JSON.parse(body)]).toEqual([String(code), errorBody]);
    }
    for (const id of ['voicemails', 'calls'] as const) {
      const crash = respond(routeById(id), { error: new Error(CRASH) });
      expect(crash.status).toBe('500');
      expect(JSON.parse(crash.body)).toEqual({ success: false, error: expect.any(String) });
      expect(crash.body).not.toMatch(/TypeError|var\/task/);
    }
    // the call log's page: its list (with a cursor) and its 400 for a bad cursor
    const calls = routeById('calls');
    const page = {
      success: true,
      line: '+815031234567',
      calls: [{ callSid: `CA${'1'.repeat(32)}`, remote: '+81 "x" \\' }],
      unseenMissed: 1,
      cursor: 'eyJ4',
    };
    expect(JSON.parse(respond(calls, { value: page }).body)).toEqual(page);
    const badCursor = { success: false, error: 'cursor must be the cursor of the previous page.' };
    expect(respond(calls, { error: new Error(`[400] ${JSON.stringify(badCursor)}`) })).toEqual({ status: '400', body: expect.any(String) });
  });
});

describe('gateway responses', () => {
  it('cover BAD_REQUEST_BODY 400, UNSUPPORTED_MEDIA_TYPE 415, UNAUTHORIZED 401, DEFAULT_4XX, DEFAULT_5XX', () => {
    expect(GATEWAY_RESPONSES.map((g) => [g.type, g.statusCode])).toEqual([
      ['BAD_REQUEST_BODY', '400'],
      ['UNSUPPORTED_MEDIA_TYPE', '415'],
      ['UNAUTHORIZED', '401'],
      ['DEFAULT_4XX', '400'],
      ['DEFAULT_5XX', '500'],
    ]);
    expect(gatewayResponse('BAD_REQUEST_BODY').overrideStatus).toBe(true);
    expect(gatewayResponse('UNAUTHORIZED').overrideStatus).toBe(true);
    expect(gatewayResponse('DEFAULT_4XX').overrideStatus).toBe(false);
  });

  it.each(GATEWAY_RESPONSES.map((g) => [g.type, g] as const))('%s renders to the JSON error shape', (type, g) => {
    expect(g.contentType).toBe('application/json');
    const body = JSON.parse(renderResponseTemplate(g.template, '{}', request)) as Record<string, unknown>;
    // UNAUTHORIZED answers only the page API (its authorizer), in that API's error shape; the others the token API's
    if (type === 'UNAUTHORIZED') expect(body).toEqual({ success: false, error: expect.stringMatching(/^Sign in again/) });
    else expect(body).toEqual({ success: false, capabilityToken: null, error: expect.any(String) });
    expect((body.error as string).length).toBeGreaterThan(5);
  });
});

describe('CORS helpers', () => {
  it('give the allow-origin header and the preflight values', () => {
    expect(corsHeaders('https://d111.cloudfront.net')).toEqual({ 'Access-Control-Allow-Origin': 'https://d111.cloudfront.net' });
    expect(preflightHeaders('*')).toEqual({
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type, X-Twilio-Signature, Authorization',
    });
  });

  it('quote values for API Gateway static mappings', () => {
    expect(staticHeaderValue('https://x')).toBe("'https://x'");
    expect(() => staticHeaderValue("a'b")).toThrow();
    expect(toResponseParameters(corsHeaders('*'))).toEqual({ 'method.response.header.Access-Control-Allow-Origin': "'*'" });
    expect(toGatewayResponseHeaders(corsHeaders('https://x'))).toEqual({ 'Access-Control-Allow-Origin': "'https://x'" });
  });
});
