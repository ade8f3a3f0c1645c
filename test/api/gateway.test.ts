import { gatewayErrorResponse, integrationRequest, integrationResponse, requestMediaType } from '../../lib/api/gateway';
import { routeById } from '../../lib/api/routes';
import { createGatewayContext } from '../../lib/vtl';
import type { GatewayRequest } from '../../lib/vtl';

const ORIGIN = 'https://d111.cloudfront.net';

function req(
  route: 'token' | 'callIncoming' | 'callStatus' | 'calls',
  body: string,
  headers: Record<string, string>,
  extra: { query?: Record<string, string>; identity?: string } = {},
): GatewayRequest {
  const resourcePath = routeById(route).path;
  return {
    body,
    headers,
    ...(extra.query ? { query: extra.query } : {}),
    context: createGatewayContext({
      domainName: '127.0.0.1:3000',
      path: `/prod${resourcePath}`,
      resourcePath,
      ...(extra.identity === undefined ? {} : { authorizer: { identity: extra.identity } }),
    }),
  };
}

describe('requestMediaType', () => {
  it('is the lower-case media type without parameters; application/json when absent', () => {
    expect(requestMediaType({ 'content-type': 'Application/X-WWW-Form-Urlencoded; charset=UTF-8' })).toBe('application/x-www-form-urlencoded');
    expect(requestMediaType({ 'Content-Type': 'application/json' })).toBe('application/json');
    expect(requestMediaType({})).toBe('application/json');
  });
});

describe('integrationRequest', () => {
  it('renders the TwiML event for a form body', () => {
    const r = integrationRequest(
      routeById('callIncoming'),
      req('callIncoming', 'To=%2B815031234567&Called=', { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 's' }),
    );
    expect(r.ok).toBe(true);
    if (r.ok) expect(JSON.parse(r.payload)).toMatchObject({ params: { To: '+815031234567', Called: '' }, query: {}, signature: 's' });
  });

  it('answers 415 for another content type (passthrough NEVER), including none on a form route', () => {
    for (const headers of [{ 'content-type': 'application/json' }, {}] as Array<Record<string, string>>) {
      const r = integrationRequest(routeById('callIncoming'), req('callIncoming', '{}', headers), ORIGIN);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.response.statusCode).toBe(415);
        expect(r.response.headers['Access-Control-Allow-Origin']).toBe(ORIGIN);
      }
    }
  });

  it('answers 400 with the JSON error for a token body the model refuses', () => {
    for (const body of ['{"twilioPhoneNumber": "+81-50-3123-4567"}', 'not json', '']) {
      const r = integrationRequest(routeById('token'), req('token', body, { 'content-type': 'application/json' }), ORIGIN);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.response.statusCode).toBe(400);
        expect(JSON.parse(r.response.body)).toMatchObject({ success: false, capabilityToken: null });
      }
    }
  });

  it("renders the call status callback's event: the leg's params, the query Twilio signed, the signature; a JSON body is refused", () => {
    const route = routeById('callStatus');
    const query = { leg: 'callee', line: '+815031234567', client: 'DeviceId_0001' };
    const body = `CallSid=CA${'1'.repeat(32)}&ParentCallSid=CA${'2'.repeat(32)}&CallStatus=no-answer&Timestamp=Tue%2C+31+Jan+2026+09%3A00%3A00+%2B0000`;
    const r = integrationRequest(
      route,
      req('callStatus', body, { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 's' }, { query }),
    );
    expect(r.ok).toBe(true);
    if (r.ok)
      expect(JSON.parse(r.payload)).toEqual({
        params: {
          CallSid: `CA${'1'.repeat(32)}`,
          ParentCallSid: `CA${'2'.repeat(32)}`,
          CallStatus: 'no-answer',
          Timestamp: 'Tue, 31 Jan 2026 09:00:00 +0000',
        },
        query,
        signature: 's',
        domainName: '127.0.0.1:3000',
        path: '/prod/twilio/call_status',
        resourcePath: '/twilio/call_status',
      });
    const refused = integrationRequest(route, req('callStatus', '{}', { 'content-type': 'application/json' }), ORIGIN);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.response.statusCode).toBe(415);
  });

  it("renders the calls page request with the authorizer's identity (never the body's); a form body is refused", () => {
    const route = routeById('calls');
    const body = JSON.stringify({ action: 'list', limit: 20, identity: 'Someone_Else' });
    const r = integrationRequest(route, req('calls', body, { 'content-type': 'application/json' }, { identity: 'DeviceId_0001' }));
    expect(r.ok).toBe(true);
    if (r.ok) expect(JSON.parse(r.payload)).toEqual({ identity: 'DeviceId_0001', request: JSON.parse(body) });
    const refused = integrationRequest(route, req('calls', 'action=list', { 'content-type': 'application/x-www-form-urlencoded' }), ORIGIN);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.response).toMatchObject({ statusCode: 415, headers: { 'Access-Control-Allow-Origin': ORIGIN } });
  });

  it('passes a valid token body through (no Content-Type counts as JSON)', () => {
    const body = '{"twilioPhoneNumber":"+815031234567","deviceSecret":"s"}';
    const r = integrationRequest(routeById('token'), req('token', body, {}));
    expect(r).toEqual({ ok: true, payload: body });
  });
});

describe('integrationResponse', () => {
  const token = routeById('token');
  const incoming = routeById('callIncoming');
  const tokenReq = req('token', '', {});

  it('maps results and errors to status, headers and body', () => {
    const ok = integrationResponse(token, { result: { success: true, capabilityToken: 't' } }, tokenReq, ORIGIN);
    expect(ok).toEqual({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': ORIGIN },
      body: '{"success":true,"capabilityToken":"t"}',
    });
    const denied = integrationResponse(token, { error: new Error('[403] {"success":false,"capabilityToken":null,"error":"no"}') }, tokenReq);
    expect(denied.statusCode).toBe(403);
    expect(JSON.parse(denied.body)).toEqual({ success: false, capabilityToken: null, error: 'no' });
    const crash = integrationResponse(token, { error: new TypeError('x is undefined') }, tokenReq);
    expect(crash.statusCode).toBe(500);
    expect(JSON.parse(crash.body)).toMatchObject({ success: false });
  });

  it('returns TwiML raw as text/xml', () => {
    const twiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';
    expect(integrationResponse(incoming, { result: twiml }, tokenReq)).toEqual({
      statusCode: 200,
      headers: { 'Content-Type': 'text/xml' },
      body: twiml,
    });
    expect(integrationResponse(incoming, { error: new Error('[403] Forbidden') }, tokenReq)).toMatchObject({ statusCode: 403, body: '' });
  });

  it("maps the call log's routes: callStatus's TwiML raw, the calls page's result and its 400 with CORS", () => {
    const empty = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
    const statusReq = req('callStatus', '', {});
    expect(integrationResponse(routeById('callStatus'), { result: empty }, statusReq)).toEqual({
      statusCode: 200,
      headers: { 'Content-Type': 'text/xml' },
      body: empty,
    });
    expect(integrationResponse(routeById('callStatus'), { error: new Error('boom') }, statusReq).statusCode).toBe(500);
    const calls = routeById('calls');
    const callsReq = req('calls', '', {});
    const page = { success: true, line: '+815031234567', calls: [], unseenMissed: 0 };
    expect(integrationResponse(calls, { result: page }, callsReq, ORIGIN)).toEqual({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': ORIGIN },
      body: JSON.stringify(page),
    });
    const bad = { success: false, error: 'cursor must be the cursor of the previous page.' };
    const refused = integrationResponse(calls, { error: new Error(`[400] ${JSON.stringify(bad)}`) }, callsReq, ORIGIN);
    expect([refused.statusCode, JSON.parse(refused.body)]).toEqual([400, bad]);
  });
});

describe('gatewayErrorResponse', () => {
  it('gives the JSON gateway responses with CORS', () => {
    const r = gatewayErrorResponse('DEFAULT_5XX', '*');
    expect(r.statusCode).toBe(500);
    expect(r.headers).toEqual({ 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
    expect(JSON.parse(r.body)).toMatchObject({ success: false, capabilityToken: null });
  });
});
