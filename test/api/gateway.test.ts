import { gatewayErrorResponse, integrationRequest, integrationResponse, requestMediaType } from '../../lib/api/gateway';
import { routeById } from '../../lib/api/routes';
import { createGatewayContext } from '../../lib/vtl';
import type { GatewayRequest } from '../../lib/vtl';

const ORIGIN = 'https://d111.cloudfront.net';

function req(route: 'token' | 'callIncoming', body: string, headers: Record<string, string>): GatewayRequest {
  const resourcePath = routeById(route).path;
  return { body, headers, context: createGatewayContext({ domainName: '127.0.0.1:3000', path: `/prod${resourcePath}`, resourcePath }) };
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
});

describe('gatewayErrorResponse', () => {
  it('gives the JSON gateway responses with CORS', () => {
    const r = gatewayErrorResponse('DEFAULT_5XX', '*');
    expect(r.statusCode).toBe(500);
    expect(r.headers).toEqual({ 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
    expect(JSON.parse(r.body)).toMatchObject({ success: false, capabilityToken: null });
  });
});
