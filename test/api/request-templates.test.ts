import { ROUTES, routeById } from '../../lib/api/routes';
import { FORM_TO_JSON_REQUEST_TEMPLATE, PAGE_REQUEST_TEMPLATE } from '../../lib/api/templates';
import { VtlRenderError, createGatewayContext, renderRequestTemplate } from '../../lib/vtl';
import type { GatewayRequest } from '../../lib/vtl';
import {
  API_DOMAIN,
  FORM,
  formParams,
  INCOMING_BODY as WALKTHROUGH_INCOMING_BODY,
  INCOMING_RESOURCE,
  OUTGOING_BODY as WALKTHROUGH_OUTGOING_BODY,
  TOKEN_BODY as WALKTHROUGH_TOKEN_BODY,
} from '../support/fixtures';

/** The walkthrough's (broken) form template, verbatim. */
const WALKTHROUGH_FORM_TEMPLATE = `#set($raw_input = $input.path("$"))

{
  #foreach( $kvpairs in $raw_input.split( '&' ) )
    #set( $kvpair = $kvpairs.split( '=' ) )
      #if($kvpair.length == 2)
        "$kvpair[0]" : "$kvpair[1]"#if( $foreach.hasNext ),#end
      #end
  #end
}`;

function formRequest(body: string, headers: Record<string, string> = {}, extra: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    body,
    headers: { 'Content-Type': FORM, ...headers },
    context: createGatewayContext({ domainName: API_DOMAIN, path: `/prod${INCOMING_RESOURCE}`, resourcePath: INCOMING_RESOURCE }),
    ...extra,
  };
}

interface TwimlEvent {
  params: Record<string, string>;
  query: Record<string, string>;
  signature: string;
  domainName: string;
  path: string;
  resourcePath: string;
}

function renderForm(body: string, headers: Record<string, string> = {}, extra: Partial<GatewayRequest> = {}): TwimlEvent {
  const out = renderRequestTemplate(FORM_TO_JSON_REQUEST_TEMPLATE, formRequest(body, headers, extra));
  return JSON.parse(out) as TwimlEvent;
}

/** The oracle: WHATWG form decoding. */
const decoded = formParams;

describe('the form → JSON request template of the TwiML routes', () => {
  it('is the request template of every TwiML route, for application/x-www-form-urlencoded', () => {
    for (const id of ['callIncoming', 'callOutgoing', 'callAction', 'forwardScreen', 'recordingStatus', 'callStatus'] as const) {
      const route = routeById(id);
      expect(route.requestContentType).toBe('application/x-www-form-urlencoded');
      expect(route.requestTemplate).toBe(FORM_TO_JSON_REQUEST_TEMPLATE);
    }
  });

  it.each([
    ['incoming', WALKTHROUGH_INCOMING_BODY],
    ['outgoing', WALKTHROUGH_OUTGOING_BODY],
  ])("gives the handler the walkthrough's %s call parameters, decoded, empty values kept", (_name, body) => {
    const event = renderForm(body, { 'X-Twilio-Signature': 'RSOYDt4T1cUTdK1PDd93/VVr8B8=' });
    expect(event.params).toEqual(decoded(body));
    expect(event.params.Called).toBe('');
    expect(event).toEqual({
      params: decoded(body),
      query: {},
      signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
      domainName: 'abc123.execute-api.ap-northeast-1.amazonaws.com',
      path: '/prod/twilio/retrieve_twiml/call_incoming',
      resourcePath: '/twilio/retrieve_twiml/call_incoming',
    });
  });

  it('decodes the outgoing call parameters the handler relies on', () => {
    const { params } = renderForm(WALKTHROUGH_OUTGOING_BODY);
    expect(params).toMatchObject({
      Caller: 'client:DeviceId_0001',
      From: 'client:DeviceId_0001',
      To: '',
      callerPhoneNumber: '+81-50-3123-4567',
      callOutgoingPhoneNumber: '+81-90-5987-6543',
    });
  });

  const hostile: Array<[string, string]> = [
    ['encoded = and & in a value', 'Body=a%3Db%26c%3Dd&To=%2B1'],
    ['raw = inside a value (split at the first =)', 'Body=a=b=c&x=1'],
    ['encoded = and & in a name', 'we%3Dird%26name=v'],
    ['double quotes', 'Body=%22quoted%22+%22x%22'],
    ['apostrophes', "Body=it%27s+O%27Brien&Name=d'Arc"],
    ['backslashes', 'Body=C%3A%5Cpath%5C%5Cx%5C&Tail=%5C'],
    ['backslash then apostrophe', 'Body=%5C%27+%5C%5C%27'],
    ['newlines, tabs and control characters', 'Body=line1%0Aline2%0D%0A%09tab%00nul%1Fus%7Fdel'],
    ['slashes and </script>', 'Body=%3C%2Fscript%3E%2F%2F'],
    ['non-ASCII', 'CallerName=%E5%B1%B1%E7%94%B0+%E5%A4%AA%E9%83%8E&City=M%C3%BCnchen'],
    ['emoji (surrogate pairs)', 'Body=%F0%9F%98%80%F0%9F%91%8D%F0%9F%8F%BD'],
    ['raw non-ASCII (not percent-encoded)', 'Body=日本語😀'],
    ['line/paragraph separators', 'Body=%E2%80%A8%E2%80%A9'],
    ['empty values', 'Called=&To=&From=%2B1'],
    ['a trailing &', 'a=1&b=2&'],
    ['empty pairs', '&&a=1&&b=&&'],
    ['a name without =', 'flag&a=1'],
    ['an empty name', '=value&a=1'],
    ['repeated names (last wins)', 'a=1&a=2&b=x&a=3'],
    ['+ as space, %2B as plus', 'Body=a+b%2Bc++d'],
    ['lower-case hex', 'Body=%e6%97%a5%2b'],
    ['Velocity syntax in data', 'Body=%24input.body+%23set(%24x+%3D+1)+%24util&%24name=%23end'],
    ['JSON syntax in data', 'Body=%7B%22a%22%3A1%7D%2C%5D'],
    ['names like object prototype keys', '__proto__=x&constructor=y&toString=z&hasOwnProperty=w'],
    ['a leading ?', '?a=1&%3F=q'],
    ['an empty body', ''],
    ['only an &', '&'],
    ['a long value', `Body=${'x%20'.repeat(2000)}`],
  ];

  it.each(hostile)('keeps %s intact as valid JSON', (_name, body) => {
    const out = renderRequestTemplate(FORM_TO_JSON_REQUEST_TEMPLATE, formRequest(body));
    const event = JSON.parse(out) as TwimlEvent;
    expect(event.params).toEqual(decoded(body));
    // JSON.parse keeps a key like "__proto__" as an own property, as URLSearchParams → fromEntries does.
    expect(Object.keys(event.params).sort()).toEqual(Object.keys(decoded(body)).sort());
    expect(event.query).toEqual({}); // the body never leaks into the query
  });

  describe('query', () => {
    // Twilio signs the URL it calls, query string included: the handler needs the query to check the signature.
    it('passes the query string parameters (as API Gateway decodes them) in their order, beside the body params', () => {
      const event = renderForm('To=%2B1', {}, { query: { line: 'sales', b: '2', a: '1' } });
      expect(event.query).toEqual({ line: 'sales', b: '2', a: '1' });
      expect(Object.keys(event.query)).toEqual(['line', 'b', 'a']);
      expect(event.params).toEqual({ To: '+1' });
    });

    it('is escaped: hostile names and values stay data, never JSON structure', () => {
      const query = {
        'x", "params": {"To": "+1900"}, "y': `a"b'cd
😀</x>`,
        $input: '#set($x = 1)',
      };
      const event = renderForm('To=%2B1', {}, { query });
      expect(event.query).toEqual(query);
      expect(event.params).toEqual({ To: '+1' });
    });
  });

  describe('signature', () => {
    it('comes from the X-Twilio-Signature header whatever its case', () => {
      expect(renderForm('a=1', { 'X-Twilio-Signature': 'abc=' }).signature).toBe('abc=');
      expect(renderForm('a=1', { 'x-twilio-signature': 'low+/=' }).signature).toBe('low+/=');
      expect(renderForm('a=1', { 'X-TWILIO-SIGNATURE': 'UP' }).signature).toBe('UP');
    });

    it('is "" when the header is absent', () => {
      expect(renderForm('a=1').signature).toBe('');
    });

    it('never comes from a query-string or path parameter of the same name', () => {
      const spoof = { query: { 'X-Twilio-Signature': 'evil' }, pathParams: { 'X-Twilio-Signature': 'evil2' } };
      expect(renderForm('a=1', {}, spoof).signature).toBe('');
      expect(renderForm('a=1', { 'X-Twilio-Signature': 'real' }, spoof).signature).toBe('real');
      // the query parameter is passed on as such (it is part of the URL Twilio signed), not as the signature
      expect(renderForm('a=1', {}, spoof).query).toEqual({ 'X-Twilio-Signature': 'evil' });
    });

    it('is escaped: a hostile header value cannot break the JSON', () => {
      const nasty = `x", "params": {}, "y": "\\'\n😀`;
      expect(renderForm('a=1', { 'X-Twilio-Signature': nasty })).toMatchObject({ signature: nasty, params: { a: '1' } });
    });

    it('is not taken from a form parameter of that name', () => {
      expect(renderForm('X-Twilio-Signature=evil&a=1').signature).toBe('');
    });
  });

  it('escapes the context values too', () => {
    const context = createGatewayContext({ domainName: 'voice.example.com', path: '/prod/a"b\'c', resourcePath: '/x\\y' });
    const event = renderForm('a=1', {}, { context });
    expect(event).toMatchObject({ domainName: 'voice.example.com', path: '/prod/a"b\'c', resourcePath: '/x\\y' });
  });

  it('fails (API Gateway: 500) on a malformed percent escape rather than passing garbage on', () => {
    expect(() => renderRequestTemplate(FORM_TO_JSON_REQUEST_TEMPLATE, formRequest('Body=100%'))).toThrow(VtlRenderError);
    expect(() => renderRequestTemplate(FORM_TO_JSON_REQUEST_TEMPLATE, formRequest('Body=%zz'))).toThrow(VtlRenderError);
  });
});

describe("the walkthrough's template (why it was replaced)", () => {
  const renderWalkthrough = (body: string): string => renderRequestTemplate(WALKTHROUGH_FORM_TEMPLATE, formRequest(body));

  it('drops the empty values Twilio signs and leaves values percent-encoded', () => {
    const result = JSON.parse(renderWalkthrough(WALKTHROUGH_INCOMING_BODY)) as Record<string, string>;
    expect(result).not.toHaveProperty('Called');
    expect(result.Caller).toBe('%2B819059876543');
    expect(result).not.toEqual(decoded(WALKTHROUGH_INCOMING_BODY));
  });

  it('gives invalid JSON when the last pair is empty or a value holds a quote', () => {
    expect(() => JSON.parse(renderWalkthrough('a=1&b='))).toThrow(SyntaxError);
    expect(() => JSON.parse(renderWalkthrough('a="'))).toThrow(SyntaxError);
  });
});

describe('the token request template', () => {
  const token = routeById('token');

  it('passes the JSON body object through', () => {
    const body = '{"twilioPhoneNumber": "+81-50-3123-4567", "deviceSecret": "s3cr3t\\"\'\\u65e5"}';
    const out = renderRequestTemplate(token.requestTemplate, {
      body,
      headers: { 'Content-Type': 'application/json' },
      context: createGatewayContext({
        domainName: 'd',
        path: '/prod/twilio/retrieve_capability_token',
        resourcePath: '/twilio/retrieve_capability_token',
      }),
    });
    expect(JSON.parse(out)).toEqual(JSON.parse(body));
  });

  it("passes the walkthrough's body through (the model validator, not the template, refuses it)", () => {
    const out = renderRequestTemplate(token.requestTemplate, {
      body: WALKTHROUGH_TOKEN_BODY,
      headers: {},
      context: createGatewayContext({ domainName: 'd', path: '/prod/x', resourcePath: '/x' }),
    });
    expect(JSON.parse(out)).toEqual({ twilioPhoneNumber: '+81-50-3123-4567' });
  });

  it('is the only JSON route without an authorizer (the page API’s routes are behind the page authorizer)', () => {
    expect(ROUTES.filter((r) => r.requestContentType === 'application/json' && r.authorizer === undefined).map((r) => r.id)).toEqual(['token']);
    expect(ROUTES.filter((r) => r.requestContentType === 'application/json' && r.authorizer !== undefined).map((r) => r.id)).toEqual([
      'voicemails',
      'directory',
      'calls',
    ]);
  });
});

describe('the page API request template', () => {
  const render = (body: string, authorizer: Record<string, unknown> | undefined, id: 'directory' | 'calls' = 'directory') =>
    renderRequestTemplate(routeById(id).requestTemplate, {
      body,
      headers: { 'Content-Type': 'application/json' },
      context: createGatewayContext({
        domainName: 'd',
        path: `/prod${routeById(id).path}`,
        resourcePath: routeById(id).path,
        ...(authorizer ? { authorizer } : {}),
      }),
    });

  it('is the same for every page route', () => {
    expect(routeById('voicemails').requestTemplate).toBe(PAGE_REQUEST_TEMPLATE);
    expect(routeById('directory').requestTemplate).toBe(PAGE_REQUEST_TEMPLATE);
    expect(routeById('calls').requestTemplate).toBe(PAGE_REQUEST_TEMPLATE);
  });

  it("passes the call log's requests (list with a cursor, markSeen) as sent, under the verified identity", () => {
    for (const request of [
      { action: 'list', limit: 20, cursor: 'eyJwayI6IkNBTEwjQ0EifQ' },
      { action: 'markSeen', until: '2026-01-31T09:00:00.000Z' },
      { action: 'list', limit: '1"}, "identity": "Someone_else' },
    ]) {
      expect(JSON.parse(render(JSON.stringify(request), { identity: 'DeviceId_0001' }, 'calls'))).toEqual({ identity: 'DeviceId_0001', request });
    }
  });

  it('passes the identity the authorizer verified and the JSON body', () => {
    const out = JSON.parse(render('{"action": "list", "id": "RE1"}', { identity: 'DeviceId_0001', principalId: 'DeviceId_0001' }));
    expect(out).toEqual({ identity: 'DeviceId_0001', request: { action: 'list', id: 'RE1' } });
  });

  it('takes the identity only from the authorizer, never from the body', () => {
    const out = JSON.parse(render('{"identity": "Someone_else"}', { identity: 'DeviceId_0001' }));
    expect(out).toEqual({ identity: 'DeviceId_0001', request: { identity: 'Someone_else' } });
    // without an identity from the authorizer, the body's still never becomes one (unparsable here: the handler refuses it)
    for (const authorizer of [undefined, {}]) {
      let parsed: { identity?: unknown } | undefined;
      try {
        parsed = JSON.parse(render('{"identity": "Someone_else"}', authorizer)) as { identity?: unknown };
      } catch {
        parsed = undefined;
      }
      expect(parsed?.identity).not.toBe('Someone_else');
    }
  });

  it('escapes a hostile identity: it stays a string, never JSON structure', () => {
    for (const identity of ['a"b', 'a\\"}, "identity": "x', "it's", '日本😀', 'line\nbreak']) {
      const out = JSON.parse(render('{}', { identity })) as { identity: string };
      expect(out.identity).toBe(identity);
    }
  });
});
