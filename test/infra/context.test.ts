/** Context keys: parsing/validation, and one synth with every key overridden. */
import { stackPropsFromContext, type ContextKey } from '../../lib/config/context';
import { flatten, resourcesOf, synthesize, type Synthesized } from './synth';

const parse = (ctx: Partial<Record<ContextKey, unknown>>) => stackPropsFromContext((k) => ctx[k]);

describe('stackPropsFromContext', () => {
  it('defaults: stack name, site origin (undefined = CloudFront URL), created secret, throttle 10/20 (browser) and 50/100 (Twilio)', () => {
    expect(parse({})).toEqual({
      stackName: 'TwilioSoftphoneStack',
      allowedOrigin: undefined,
      twilioSecretName: undefined,
      functionSettings: {
        tokenTtlSeconds: undefined,
        publicBaseUrl: undefined,
        allowedDestinationCountries: undefined,
        callTimeLimitSeconds: undefined,
      },
      throttle: { browser: { rateLimit: 10, burstLimit: 20 }, twilio: { rateLimit: 50, burstLimit: 100 } },
    });
  });

  it('parses every key (strings from -c, as the CLI passes them)', () => {
    expect(
      parse({
        stackName: 'Phone-Dev',
        allowedOrigin: 'https://phone.example.com',
        twilioSecretName: 'prod/twilio',
        tokenTtlSeconds: '600',
        allowedDestinationCountries: 'jp, US,JP',
        publicBaseUrl: 'https://voice.example.com/prod/',
        throttleRateLimit: '5',
        throttleBurstLimit: 8,
        webhookThrottleRateLimit: '30',
        webhookThrottleBurstLimit: 60,
        callTimeLimitSeconds: '3600',
      }),
    ).toEqual({
      stackName: 'Phone-Dev',
      allowedOrigin: 'https://phone.example.com',
      twilioSecretName: 'prod/twilio',
      functionSettings: {
        tokenTtlSeconds: 600,
        publicBaseUrl: 'https://voice.example.com/prod',
        allowedDestinationCountries: ['JP', 'US'],
        callTimeLimitSeconds: 3600,
      },
      throttle: { browser: { rateLimit: 5, burstLimit: 8 }, twilio: { rateLimit: 30, burstLimit: 60 } },
    });
    // each caller's limits are their own: setting one leaves the other's defaults
    expect(parse({ webhookThrottleRateLimit: 200 }).throttle).toEqual({
      browser: { rateLimit: 10, burstLimit: 20 },
      twilio: { rateLimit: 200, burstLimit: 100 },
    });
    expect(parse({ allowedOrigin: '*' }).allowedOrigin).toBe('*');
    expect(parse({ allowedDestinationCountries: ['JP'] }).functionSettings?.allowedDestinationCountries).toEqual(['JP']);
  });

  it.each([
    [{ allowedOrigin: 'https://phone.example.com/' }, /allowedOrigin/],
    [{ allowedOrigin: "https://x.example.com'" }, /allowedOrigin/],
    [{ allowedOrigin: 'phone.example.com' }, /allowedOrigin/],
    [{ tokenTtlSeconds: '30' }, /tokenTtlSeconds/],
    [{ tokenTtlSeconds: '1h' }, /tokenTtlSeconds/],
    [{ publicBaseUrl: 'http://voice.example.com' }, /publicBaseUrl/],
    [{ allowedDestinationCountries: 'JPN' }, /allowedDestinationCountries/],
    [{ throttleRateLimit: '0' }, /throttleRateLimit/],
    [{ webhookThrottleRateLimit: '0' }, /webhookThrottleRateLimit/],
    [{ webhookThrottleBurstLimit: '5001' }, /webhookThrottleBurstLimit/],
    [{ callTimeLimitSeconds: '59' }, /callTimeLimitSeconds/],
    [{ callTimeLimitSeconds: '14401' }, /callTimeLimitSeconds/],
    [{ stackName: '1bad name' }, /stackName/],
  ] as const)('refuses %j', (ctx, message) => {
    expect(() => parse(ctx)).toThrow(message);
  });
});

describe('a synth with every context key overridden', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({
      stackName: 'PhoneCtx',
      allowedOrigin: '*',
      twilioSecretName: 'team/twilio',
      tokenTtlSeconds: '900',
      allowedDestinationCountries: 'JP,US',
      publicBaseUrl: 'https://voice.example.com/prod',
      throttleRateLimit: '3',
      throttleBurstLimit: '6',
      webhookThrottleRateLimit: '40',
      webhookThrottleBurstLimit: '80',
      callTimeLimitSeconds: '1800',
    });
  });
  afterAll(() => s?.cleanUp());

  it('uses the stack name', () => {
    expect(s.stack.stackName).toBe('PhoneCtx');
  });

  it('allowedOrigin "*" on every response, preflight and gateway response', () => {
    const text = JSON.stringify(s.json);
    const origins = [...text.matchAll(/"(?:method|gatewayresponse)\.response\.header\.Access-Control-Allow-Origin":("[^"]*"|\{)/g)].map((m) => m[1]);
    expect(origins.length).toBeGreaterThan(10);
    expect(new Set(origins)).toEqual(new Set([`"'*'"`]));
  });

  it('references the named secret instead of creating one, and grants read on that name only', () => {
    expect(resourcesOf(s.json, 'AWS::SecretsManager::Secret')).toHaveLength(0);
    expect(s.json.Outputs.TwilioSecretName.Value).toBe('team/twilio');
    const policies = resourcesOf(s.json, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('Functions'));
    for (const [, p] of policies) {
      const st = (p.Properties!.PolicyDocument.Statement as { Action: string[]; Resource: unknown }[]).find((x) =>
        [x.Action].flat().includes('secretsmanager:GetSecretValue'),
      )!;
      expect(flatten(st.Resource)).toMatch(/:secret:team\/twilio-\?\?\?\?\?\?$/);
    }
  });

  it('function environment carries the settings', () => {
    const fns = resourcesOf(s.json, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('Functions'));
    expect(fns).toHaveLength(3);
    for (const [, fn] of fns) {
      expect(fn.Properties!.Environment.Variables).toMatchObject({
        TWILIO_SECRET_ID: 'team/twilio',
        TOKEN_TTL_SECONDS: '900',
        ALLOWED_DESTINATION_COUNTRIES: 'JP,US',
        PUBLIC_BASE_URL: 'https://voice.example.com/prod',
        CALL_TIME_LIMIT_SECONDS: '1800',
      });
    }
  });

  it('throttling per caller from context; webhook outputs on the public base URL; CSP allows it', () => {
    const [, stage] = resourcesOf(s.json, 'AWS::ApiGateway::Stage')[0];
    // the stage default and the token API: the browser's limits; each webhook: Twilio's
    const limits = (stage.Properties!.MethodSettings as Record<string, unknown>[]).map((m) => [
      m.HttpMethod,
      m.ResourcePath,
      m.ThrottlingRateLimit,
      m.ThrottlingBurstLimit,
    ]);
    expect(limits).toEqual([
      ['*', '/*', 3, 6],
      ['POST', '/~1twilio~1retrieve_capability_token', 3, 6],
      ['POST', '/~1twilio~1retrieve_twiml~1call_incoming', 40, 80],
      ['POST', '/~1twilio~1retrieve_twiml~1call_outgoing', 40, 80],
    ]);
    expect(s.json.Outputs.IncomingCallWebhookUrl.Value).toBe('https://voice.example.com/prod/twilio/retrieve_twiml/call_incoming');
    expect(s.json.Outputs.OutgoingCallWebhookUrl.Value).toBe('https://voice.example.com/prod/twilio/retrieve_twiml/call_outgoing');
    const [, rhp] = resourcesOf(s.json, 'AWS::CloudFront::ResponseHeadersPolicy')[0];
    expect(flatten(rhp.Properties!.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy)).toContain(
      'https://voice.example.com https://*.twilio.com',
    );
  });
});
