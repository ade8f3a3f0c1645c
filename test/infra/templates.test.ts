/**
 * The mapping templates AS DEPLOYED: read from the synthesized CloudFormation template (not from
 * lib/api/routes.ts) and rendered by the API Gateway VTL renderer (lib/vtl) against the walkthrough's curl
 * bodies and hostile ones. Every result must parse as JSON and equal the decoded parameters.
 */
import { createGatewayContext, lambdaErrorPayload, lambdaResultPayload, renderRequestTemplate, renderResponseTemplate } from '../../lib/vtl';
import type { GatewayRequest } from '../../lib/vtl';
import { emptyTwiml } from '../../lambda/core/twiml';
import { GATEWAY_RESPONSES, ROUTES, routeById, type RouteId } from '../../lib/api/routes';
import { API_DOMAIN, FORM, formParams, INCOMING_BODY, OUTGOING_BODY, TOKEN_BODY } from '../support/fixtures';
import { defaultTemplate, resourcesOf, type CfnResource, type CfnTemplate } from './synth';

interface DeployedResponse {
  StatusCode: string;
  SelectionPattern?: string;
  ResponseTemplates: Record<string, string>;
}
interface Deployed {
  requestTemplates: Record<string, string>;
  responses: DeployedResponse[];
}

let json: CfnTemplate;
const deployed = {} as Record<RouteId, Deployed>;
let gatewayTemplates: { type: string; template: string }[];

beforeAll(() => {
  json = defaultTemplate();
  const methods = resourcesOf(json, 'AWS::ApiGateway::Method').filter(([, m]) => m.Properties!.HttpMethod === 'POST');
  const pathPartOf = (m: CfnResource): string => json.Resources[m.Properties!.ResourceId.Ref as string].Properties!.PathPart as string;
  for (const route of ROUTES) {
    const last = route.path.split('/').pop()!;
    const [, method] = methods.find(([, m]) => pathPartOf(m) === last)!;
    deployed[route.id] = {
      requestTemplates: method.Properties!.Integration.RequestTemplates,
      responses: method.Properties!.Integration.IntegrationResponses,
    };
  }
  gatewayTemplates = resourcesOf(json, 'AWS::ApiGateway::GatewayResponse').map(([, g]) => ({
    type: g.Properties!.ResponseType as string,
    template: g.Properties!.ResponseTemplates['application/json'] as string,
  }));
});

/** Twilio's webhooks (form → JSON, TwiML out) and the page's routes (behind the authorizer). */
const WEBHOOKS = ROUTES.filter((r) => r.caller === 'twilio').map((r) => r.id);
const PAGE_ROUTES = ROUTES.filter((r) => r.authorizer === 'page').map((r) => r.id);

/** The walkthrough's curl bodies (section 2-8), verbatim. */
const WALKTHROUGH = { token: TOKEN_BODY, callIncoming: INCOMING_BODY, callOutgoing: OUTGOING_BODY };

/** Hostile but legal form bodies: what a Twilio parameter (or an attacker) can carry. */
const enc = encodeURIComponent;
const HOSTILE_FORMS: Record<string, string> = {
  'encoded = and &': `To=${enc('a=b&c=d')}&From=${enc('==&&')}`,
  'quotes, apostrophes, backslashes': `Caller=${enc(`"'\\"\\\\'`)}&To=${enc('O\'Brien "x" \\ y')}`,
  'newlines, tabs, control characters': `Body=${enc('line1\nline2\r\n\tx\u0001\u001f')}&To=1`,
  'non-ASCII and emoji': `CallerName=${enc('山田 太郎 — Ünïcødé 📞👩🏽‍💻')}&To=%2B815031234567`,
  '+ as space, %2B as plus': `Caller=John+Smith&To=%2B81+50`,
  'empty values kept': 'Called=&To=&From=&Caller=',
  'repeated name: last wins': 'To=first&To=second&To=last',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal `${x}`, as a hostile caller would send it
  'VTL and JSON injection': `Caller=${enc('$input.body #set($x = 1) ${x} "}, "evil": "')}&To=${enc('</Client><Dial>+1900</Dial>')}`,
  'JSON-looking value': `Caller=${enc('{"To":"+1900"}')}`,
  'lone name without =': 'Flag&To=1',
};

/** The oracle: WHATWG form decoding. */
const decoded = formParams;

function request(routeId: RouteId, body: string, headers: Record<string, string>, authorizer?: Record<string, string>): GatewayRequest {
  const route = routeById(routeId);
  return {
    body,
    headers,
    context: createGatewayContext({
      domainName: API_DOMAIN,
      path: `/prod${route.path}`,
      resourcePath: route.path,
      ...(authorizer ? { authorizer } : {}),
    }),
  };
}

function renderForm(routeId: RouteId, body: string, signature?: string, query?: Record<string, string>) {
  const template = deployed[routeId].requestTemplates['application/x-www-form-urlencoded'];
  const headers: Record<string, string> = { 'Content-Type': FORM };
  if (signature !== undefined) headers['X-Twilio-Signature'] = signature;
  const out = renderRequestTemplate(template, { ...request(routeId, body, headers), ...(query ? { query } : {}) });
  return JSON.parse(out) as {
    params: Record<string, string>;
    query: Record<string, string>;
    signature: string;
    domainName: string;
    path: string;
    resourcePath: string;
  };
}

describe('request templates from the synthesized template', () => {
  it('each route has exactly its one content type', () => {
    expect(Object.keys(deployed.token.requestTemplates)).toEqual(['application/json']);
    expect(WEBHOOKS.sort()).toEqual([
      'callAction',
      'callIncoming',
      'callOutgoing',
      'callStatus',
      'forwardScreen',
      'preflight',
      'recordingStatus',
      'twilioDebugger',
    ]);
    for (const id of WEBHOOKS) expect(Object.keys(deployed[id].requestTemplates)).toEqual(['application/x-www-form-urlencoded']);
    expect(PAGE_ROUTES.sort()).toEqual(['calls', 'directory', 'voicemails']);
    for (const id of PAGE_ROUTES) expect(Object.keys(deployed[id].requestTemplates)).toEqual(['application/json']);
  });

  it.each(WEBHOOKS)('%s: a Twilio form post → the decoded params, the query Twilio signed, signature and URL parts', (id) => {
    const body = `CallSid=CA1&To=${enc('+815031234567')}&DialCallStatus=no-answer&RecordingSid=RE1`;
    const query = { stage: 'ring', next: '1', line: '+815031234567' };
    const event = renderForm(id, body, 'sig+/=', query);
    expect(event).toEqual({
      params: decoded(body),
      query,
      signature: 'sig+/=',
      domainName: API_DOMAIN,
      path: `/prod${routeById(id).path}`,
      resourcePath: routeById(id).path,
    });
  });

  it.each(['callIncoming', 'callOutgoing'] as const)('%s: the walkthrough curl body → the decoded params + signature + URL parts', (id) => {
    const event = renderForm(id, WALKTHROUGH[id], 'sig+/=');
    expect(event.params).toEqual(decoded(WALKTHROUGH[id]));
    expect(event.params.Called).toBe('');
    expect(event.signature).toBe('sig+/=');
    expect(event.domainName).toBe(API_DOMAIN);
    expect(event.path).toBe(`/prod${routeById(id).path}`);
    expect(event.resourcePath).toBe(routeById(id).path);
    expect(event.query).toEqual({}); // no query string
    expect(Object.keys(event).sort()).toEqual(['domainName', 'params', 'path', 'query', 'resourcePath', 'signature']);
  });

  it.each(['callIncoming', 'callOutgoing'] as const)('%s: the query string arrives as `query` (Twilio signs it), escaped', (id) => {
    const query = {
      line: 'sales',
      'we"ird': `a"b'cd
📞`,
    };
    const event = renderForm(id, WALKTHROUGH[id], 'sig', query);
    expect(event.query).toEqual(query);
    expect(event.params).toEqual(decoded(WALKTHROUGH[id]));
    expect(event.signature).toBe('sig');
  });

  it('the walkthrough outgoing body keeps To= and decodes client:/+ values', () => {
    const event = renderForm('callOutgoing', WALKTHROUGH.callOutgoing, '');
    expect(event.params).toMatchObject({ To: '', Caller: 'client:DeviceId_0001', callerPhoneNumber: '+81-50-3123-4567' });
  });

  it.each(Object.entries(HOSTILE_FORMS))('hostile body (%s): valid JSON equal to the decoded params, on every webhook', (_name, body) => {
    for (const id of WEBHOOKS) {
      expect(renderForm(id, body, 'x').params).toEqual(decoded(body));
    }
  });

  it("callStatus: a dialled leg's status callback → its decoded params (Timestamp, sequence, parent) and the leg's query, as Twilio signed them", () => {
    // What Twilio posts to the URL outgoing-call.ts gives a <Number>: the leg's progress, naming the parent call.
    const body = [
      'AccountSid=AC3e00000000000000000000000000000',
      `CallSid=CA${'1'.repeat(32)}`,
      `ParentCallSid=CA${'2'.repeat(32)}`,
      'CallStatus=completed',
      'CallDuration=42',
      `Timestamp=${enc('Tue, 31 Jan 2026 09:00:42 +0000')}`,
      'SequenceNumber=3',
      'CallbackSource=call-progress-events',
      `From=${enc('+815031234567')}`,
      `To=${enc('+819059876543')}`,
      'Direction=outbound-dial',
    ].join('&');
    const query = { leg: 'callee', line: '+815031234567', client: 'DeviceId_0001' };
    const event = renderForm('callStatus', body, 'sig+/=', query);
    expect(event).toEqual({
      params: decoded(body),
      query,
      signature: 'sig+/=',
      domainName: API_DOMAIN,
      path: '/prod/twilio/call_status',
      resourcePath: '/twilio/call_status',
    });
    expect(event.params).toMatchObject({ Timestamp: 'Tue, 31 Jan 2026 09:00:42 +0000', To: '+819059876543', CallStatus: 'completed' });
    // a parent call's callback (the number's, the TwiML App's) carries no query
    expect(renderForm('callStatus', `CallSid=CA${'3'.repeat(32)}&CallStatus=ringing&From=client%3ADeviceId_0001`, 'x').query).toEqual({});
  });

  it('a missing X-Twilio-Signature arrives as ""; a hostile one arrives intact', () => {
    expect(renderForm('callIncoming', 'To=1').signature).toBe('');
    expect(renderForm('callIncoming', 'To=1', `a"b'c\\d`).signature).toBe(`a"b'c\\d`);
  });

  /** A page request as the template renders it, with the identity the authorizer verified (if any). */
  const renderPage = (id: RouteId, body: string, identity?: string) =>
    JSON.parse(
      renderRequestTemplate(
        deployed[id].requestTemplates['application/json'],
        request(id, body, { 'Content-Type': 'application/json', Authorization: 'Bearer x.y.z' }, identity === undefined ? undefined : { identity }),
      ),
    ) as { identity: string; request: unknown };

  it.each(PAGE_ROUTES)('%s: the verified identity from $context.authorizer.identity, and the body as `request`', (id) => {
    for (const body of ['{"action":"list"}', '{"action":"play","id":"RE0123"}', '{}']) {
      expect(renderPage(id, body, 'DeviceId_0001')).toEqual({ identity: 'DeviceId_0001', request: JSON.parse(body) });
    }
  });

  it.each(PAGE_ROUTES)('%s: the body cannot choose the identity; hostile text stays data', (id) => {
    const body = JSON.stringify({ identity: 'Someone_Else', action: '$input #set($x=1) "}, "identity": "x', note: '日本 📞 \\ \n' });
    expect(renderPage(id, body, 'DeviceId_0001')).toEqual({ identity: 'DeviceId_0001', request: JSON.parse(body) });
    // an identity with JSON's special characters still makes valid JSON (the authorizer only passes client names)
    expect(renderPage(id, '{}', `a"b'c\\d`).identity).toBe(`a"b'c\\d`);
  });

  it("calls: the page's list and markSeen requests reach the handler as sent, under the verified identity", () => {
    const cursor = Buffer.from(JSON.stringify({ pk: `CALL#CA${'1'.repeat(32)}`, sk: 'CALL', line: '+815031234567' })).toString('base64url');
    for (const request of [
      { action: 'list' },
      { action: 'list', limit: 20, cursor },
      { action: 'markSeen', until: '2026-01-31T09:00:00.000Z' },
      { action: 'list', identity: 'Someone_Else', limit: '50"}, "identity": "x' },
    ]) {
      expect(renderPage('calls', JSON.stringify(request), 'DeviceId_0001')).toEqual({ identity: 'DeviceId_0001', request });
    }
  });

  it('token: the walkthrough body and a hostile one reach the Lambda as the same JSON object', () => {
    const template = deployed.token.requestTemplates['application/json'];
    for (const body of [WALKTHROUGH.token, JSON.stringify({ twilioPhoneNumber: '+81 50"\'\\\n📞', deviceSecret: '$input #set' })]) {
      const out = renderRequestTemplate(template, request('token', body, { 'Content-Type': 'application/json' }));
      expect(JSON.parse(out)).toEqual(JSON.parse(body));
    }
  });
});

/** API Gateway matches a selection pattern against the WHOLE error message (Java `matches`). */
function select(responses: DeployedResponse[], errorMessage: string | undefined): DeployedResponse {
  const fallback = responses.find((r) => r.SelectionPattern === undefined)!;
  if (errorMessage === undefined) return fallback;
  return responses.find((r) => r.SelectionPattern !== undefined && new RegExp(`^(?:${r.SelectionPattern})$`).test(errorMessage)) ?? fallback;
}

describe('integration responses from the synthesized template', () => {
  const req = (id: RouteId) => request(id, '', {});

  it('TwiML success: the handler string comes back raw (no quotes, no escaping) as XML', () => {
    const twiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="60"><Client>DeviceId_0001</Client></Dial></Response>';
    for (const id of WEBHOOKS) {
      const r = select(deployed[id].responses, undefined);
      expect(r.StatusCode).toBe('200');
      expect(renderResponseTemplate(r.ResponseTemplates['application/xml'], lambdaResultPayload(twiml), req(id))).toBe(twiml);
    }
  });

  it("callStatus: the handler's empty <Response/> (Twilio ignores it) comes back raw as XML; recordingStatus answers the same", () => {
    for (const id of ['callStatus', 'recordingStatus'] as const) {
      const r = select(deployed[id].responses, undefined);
      expect(renderResponseTemplate(r.ResponseTemplates['application/xml'], lambdaResultPayload(emptyTwiml()), req(id))).toBe(emptyTwiml());
    }
  });

  it('TwiML: [403] → 403 with an empty body; any other error (multi-line too) → 500 with well-formed TwiML', () => {
    for (const id of WEBHOOKS) {
      const forbidden = select(deployed[id].responses, '[403] Forbidden');
      expect(forbidden.StatusCode).toBe('403');
      expect(
        renderResponseTemplate(forbidden.ResponseTemplates['application/xml'], lambdaErrorPayload(new Error('[403] Forbidden')), req(id)).trim(),
      ).toBe('');
      for (const message of ['Task timed out after 10.01 seconds', 'boom\nat x', '[500] nope', '[4031] x']) {
        const r = select(deployed[id].responses, message);
        expect(r.StatusCode).toBe('500');
        const body = renderResponseTemplate(r.ResponseTemplates['application/xml'], lambdaErrorPayload(new Error(message)), req(id));
        expect(body).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\s*<Response>[\s\S]*<\/Response>\s*$/);
        expect(body).not.toContain(message);
      }
    }
  });

  it('token: success passes the handler object through; [400]/[403]/[429]/[503] map to their status with the JSON body', () => {
    const responses = deployed.token.responses;
    const success = { success: true, capabilityToken: 'eyJ.x.y', identity: 'DeviceId_0001', expiresAt: '2030-01-01T00:00:00.000Z' };
    const ok = select(responses, undefined);
    expect(ok.StatusCode).toBe('200');
    expect(JSON.parse(renderResponseTemplate(ok.ResponseTemplates['application/json'], lambdaResultPayload(success), req('token')))).toEqual(success);
    for (const status of ['400', '403', '429', '503']) {
      const body = { success: false, capabilityToken: null, error: `Nope "quoted" \\ 'single' 日本 ${status}` };
      const message = `[${status}] ${JSON.stringify(body)}`;
      const r = select(responses, message);
      expect(r.StatusCode).toBe(status);
      expect(
        JSON.parse(renderResponseTemplate(r.ResponseTemplates['application/json'], lambdaErrorPayload(new Error(message)), req('token'))),
      ).toEqual(body);
    }
  });

  it('token: a crash or timeout → 500 with a fixed JSON error body that reveals nothing', () => {
    for (const message of ['Cannot read properties of undefined', 'Task timed out after 10.00 seconds', 'secret=hunter2\nstack']) {
      const r = select(deployed.token.responses, message);
      expect(r.StatusCode).toBe('500');
      const out = renderResponseTemplate(r.ResponseTemplates['application/json'], lambdaErrorPayload(new Error(message)), req('token'));
      expect(JSON.parse(out)).toMatchObject({ success: false });
      expect(out).not.toContain('hunter2');
    }
  });

  it.each(PAGE_ROUTES)('%s: success passes the handler object through; [400]/[403]/[404]/[503] map with the JSON body', (id) => {
    const responses = deployed[id].responses;
    const success = { success: true, line: '+815031234567', voicemails: [{ id: 'RE1', from: '+81 "x" \\', heard: false }], unheard: 1 };
    const ok = select(responses, undefined);
    expect(ok.StatusCode).toBe('200');
    expect(JSON.parse(renderResponseTemplate(ok.ResponseTemplates['application/json'], lambdaResultPayload(success), req(id)))).toEqual(success);
    for (const status of ['400', '403', '404', '503']) {
      const body = { success: false, error: `No such voicemail "quoted" \\ 'single' 日本 ${status}` };
      const message = `[${status}] ${JSON.stringify(body)}`;
      const r = select(responses, message);
      expect(r.StatusCode).toBe(status);
      expect(JSON.parse(renderResponseTemplate(r.ResponseTemplates['application/json'], lambdaErrorPayload(new Error(message)), req(id)))).toEqual(
        body,
      );
    }
  });

  it.each(PAGE_ROUTES)('%s: a crash or timeout → 500 with a fixed JSON body that reveals nothing', (id) => {
    for (const message of ['Cannot read properties of undefined', 'Task timed out after 10.00 seconds', '[500] secret=hunter2', '[4031] x']) {
      const r = select(deployed[id].responses, message);
      expect(r.StatusCode).toBe('500');
      const out = renderResponseTemplate(r.ResponseTemplates['application/json'], lambdaErrorPayload(new Error(message)), req(id));
      expect(JSON.parse(out)).toEqual({ success: false, error: expect.any(String) });
      expect(out).not.toContain('hunter2');
    }
  });

  it('gateway responses: every one of GATEWAY_RESPONSES is deployed, each template a JSON error body', () => {
    expect(gatewayTemplates.map((g) => g.type).sort()).toEqual(GATEWAY_RESPONSES.map((g) => g.type).sort());
    for (const g of gatewayTemplates) {
      const out = renderResponseTemplate(g.template, '{}', req('token'));
      expect(JSON.parse(out)).toMatchObject({ success: false });
    }
    // the page authorizer's refusal tells the page to sign in again
    const unauthorized = gatewayTemplates.find((g) => g.type === 'UNAUTHORIZED')!;
    expect(JSON.parse(renderResponseTemplate(unauthorized.template, '{}', req('voicemails'))).error).toMatch(/sign in again/i);
  });
});
