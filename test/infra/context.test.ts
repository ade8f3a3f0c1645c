/** Context keys: parsing/validation, and one synth with every key overridden. */
import { ROUTES } from '../../lib/api/routes';
import { stackPropsFromContext, type ContextKey } from '../../lib/config/context';
import { siteEdge } from '../../lib/site/config-json';
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
        voicemailRetentionDays: undefined,
        callLogRetentionDays: undefined,
        maxCallsPerDevice: undefined,
        maxCallsPerLine: undefined,
        detailedTracing: undefined,
      },
      voicemailNotifyEmails: [],
      alarmEmails: [],
      twilioEdge: undefined,
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
        voicemailRetentionDays: '90',
        voicemailNotifyEmails: ' team@example.com, boss@example.co.jp,team@example.com ',
        callLogRetentionDays: '365',
        maxCallsPerDevice: '1',
        maxCallsPerLine: 25,
        alarmEmails: 'ops@example.com, oncall@example.co.jp,ops@example.com',
        twilioEdge: 'Tokyo, singapore,tokyo',
        detailedTracing: 'true',
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
        voicemailRetentionDays: 90,
        callLogRetentionDays: 365,
        maxCallsPerDevice: 1,
        maxCallsPerLine: 25,
        detailedTracing: true,
      },
      voicemailNotifyEmails: ['team@example.com', 'boss@example.co.jp'],
      alarmEmails: ['ops@example.com', 'oncall@example.co.jp'],
      twilioEdge: ['tokyo', 'singapore'],
      throttle: { browser: { rateLimit: 5, burstLimit: 8 }, twilio: { rateLimit: 30, burstLimit: 60 } },
    });
    // each caller's limits are their own: setting one leaves the other's defaults
    expect(parse({ webhookThrottleRateLimit: 200 }).throttle).toEqual({
      browser: { rateLimit: 10, burstLimit: 20 },
      twilio: { rateLimit: 200, burstLimit: 100 },
    });
    expect(parse({ allowedOrigin: '*' }).allowedOrigin).toBe('*');
    expect(parse({ allowedDestinationCountries: ['JP'] }).functionSettings?.allowedDestinationCountries).toEqual(['JP']);
    // cdk.json may give the addresses as a list
    expect(parse({ voicemailNotifyEmails: ['a@example.com', 'b@example.com'] }).voicemailNotifyEmails).toEqual(['a@example.com', 'b@example.com']);
    expect(parse({ voicemailNotifyEmails: [] }).voicemailNotifyEmails).toEqual([]);
    expect(parse({ alarmEmails: ['ops@example.com'] }).alarmEmails).toEqual(['ops@example.com']);
    expect(parse({ alarmEmails: '' }).alarmEmails).toEqual([]);
    expect(parse({ voicemailRetentionDays: 1 }).functionSettings?.voicemailRetentionDays).toBe(1);
    expect(parse({ voicemailRetentionDays: '3650' }).functionSettings?.voicemailRetentionDays).toBe(3650);
    // the call log's bounds (lambda/core/settings.ts), both ends
    expect(parse({ callLogRetentionDays: 1 }).functionSettings?.callLogRetentionDays).toBe(1);
    expect(parse({ callLogRetentionDays: '3650' }).functionSettings?.callLogRetentionDays).toBe(3650);
    expect(parse({ maxCallsPerDevice: '10', maxCallsPerLine: '1' }).functionSettings).toMatchObject({ maxCallsPerDevice: 10, maxCallsPerLine: 1 });
    expect(parse({ maxCallsPerLine: 100 }).functionSettings?.maxCallsPerLine).toBe(100);
    // the edge goes into config.json as the page reads it: one name, or a list in order of preference
    expect(parse({ twilioEdge: ['roaming'] }).twilioEdge).toEqual(['roaming']);
    expect(siteEdge(parse({ twilioEdge: 'dublin' }).twilioEdge)).toEqual({ edge: 'dublin' });
    expect(siteEdge(parse({ twilioEdge: 'ashburn,dublin' }).twilioEdge)).toEqual({ edge: ['ashburn', 'dublin'] });
    expect(siteEdge(parse({}).twilioEdge)).toEqual({});
    // cdk.json may give the flag as a JSON boolean
    expect(parse({ detailedTracing: false }).functionSettings?.detailedTracing).toBe(false);
    expect(parse({ detailedTracing: 'off' }).functionSettings?.detailedTracing).toBe(false);
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
    [{ voicemailRetentionDays: '0' }, /voicemailRetentionDays/],
    [{ voicemailRetentionDays: '3651' }, /voicemailRetentionDays/],
    [{ voicemailRetentionDays: '30d' }, /voicemailRetentionDays/],
    [{ twilioEdge: 'atlantis' }, /twilioEdge/],
    [{ twilioEdge: 'tokyo,mars' }, /twilioEdge/],
    [{ twilioEdge: ',' }, /twilioEdge/],
    [{ callLogRetentionDays: '0' }, /callLogRetentionDays/],
    [{ callLogRetentionDays: '3651' }, /callLogRetentionDays/],
    [{ callLogRetentionDays: '90d' }, /callLogRetentionDays/],
    [{ maxCallsPerDevice: '0' }, /maxCallsPerDevice/],
    [{ maxCallsPerDevice: '11' }, /maxCallsPerDevice/],
    [{ maxCallsPerDevice: '1.5' }, /maxCallsPerDevice/],
    [{ maxCallsPerLine: '0' }, /maxCallsPerLine/],
    [{ maxCallsPerLine: '101' }, /maxCallsPerLine/],
    [{ maxCallsPerLine: '-1' }, /maxCallsPerLine/],
    [{ detailedTracing: 'yes please' }, /detailedTracing/],
    [{ voicemailNotifyEmails: 'team' }, /voicemailNotifyEmails/],
    [{ voicemailNotifyEmails: 'team@example' }, /voicemailNotifyEmails/],
    [{ voicemailNotifyEmails: 'a@example.com;b@example.com' }, /voicemailNotifyEmails/],
    [{ voicemailNotifyEmails: 'a b@example.com' }, /voicemailNotifyEmails/],
    [{ voicemailNotifyEmails: ',' }, /voicemailNotifyEmails/],
    [{ voicemailNotifyEmails: ['ok@example.com', 'not an address'] }, /voicemailNotifyEmails/],
    [{ alarmEmails: 'ops' }, /Context alarmEmails must be e-mail addresses/],
    [{ alarmEmails: 'a@example.com;b@example.com' }, /alarmEmails/],
    [{ alarmEmails: ['ops@example.com', 'ops@'] }, /alarmEmails/],
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
      voicemailRetentionDays: '7',
      voicemailNotifyEmails: 'team@example.com,boss@example.com',
      callLogRetentionDays: '30',
      maxCallsPerDevice: '3',
      maxCallsPerLine: '20',
      alarmEmails: 'ops@example.com,oncall@example.com',
      detailedTracing: 'true',
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
    const reads = resourcesOf(s.json, 'AWS::IAM::Policy')
      .filter(([id]) => id.startsWith('Functions'))
      .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
      .filter((st) => [st.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    // the token route, the webhooks and the page authorizer
    expect(reads).toHaveLength(ROUTES.filter((r) => r.caller === 'twilio').length + 2);
    for (const st of reads) {
      expect(st.Action).toBe('secretsmanager:GetSecretValue');
      expect(flatten(st.Resource)).toMatch(/:secret:team\/twilio-\?\?\?\?\?\?$/);
    }
  });

  it('function environment carries the settings', () => {
    const fns = resourcesOf(s.json, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('Functions'));
    expect(fns).toHaveLength(ROUTES.length + 2);
    for (const [, fn] of fns) {
      expect(fn.Properties!.Environment.Variables).toMatchObject({
        TWILIO_SECRET_ID: 'team/twilio',
        TOKEN_TTL_SECONDS: '900',
        ALLOWED_DESTINATION_COUNTRIES: 'JP,US',
        PUBLIC_BASE_URL: 'https://voice.example.com/prod',
        CALL_TIME_LIMIT_SECONDS: '1800',
        VOICEMAIL_RETENTION_DAYS: '7',
        CALL_LOG_RETENTION_DAYS: '30',
        MAX_CALLS_PER_DEVICE: '3',
        MAX_CALLS_PER_LINE: '20',
        POWERTOOLS_TRACE_ENABLED: 'true',
      });
    }
  });

  it('voicemail: recordings expire after the retention days, each address subscribed to the topic by e-mail', () => {
    const [, bucket] = resourcesOf(s.json, 'AWS::S3::Bucket').find(([id]) => id.startsWith('VoicemailRecordings'))!;
    expect(bucket.Properties!.LifecycleConfiguration.Rules).toEqual([expect.objectContaining({ Id: 'ExpireRecordings', ExpirationInDays: 7 })]);
    const [topicId] = resourcesOf(s.json, 'AWS::SNS::Topic').find(([id]) => id.startsWith('VoicemailNewVoicemail'))!;
    const subscriptions = resourcesOf(s.json, 'AWS::SNS::Subscription')
      .map(([, sub]) => sub.Properties)
      .filter((p) => p!.TopicArn.Ref === topicId);
    expect(subscriptions).toEqual([
      { Protocol: 'email', Endpoint: 'team@example.com', TopicArn: { Ref: topicId } },
      { Protocol: 'email', Endpoint: 'boss@example.com', TopicArn: { Ref: topicId } },
    ]);
  });

  it('alarms: each alarmEmails address subscribed to the alarm topic by e-mail, and nothing else is', () => {
    const [topicId] = resourcesOf(s.json, 'AWS::SNS::Topic').find(([id]) => id.startsWith('OperationsAlarmTopic'))!;
    const subscriptions = resourcesOf(s.json, 'AWS::SNS::Subscription')
      .map(([, sub]) => sub.Properties)
      .filter((p) => p!.TopicArn.Ref === topicId);
    expect(subscriptions).toEqual([
      { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } },
      { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: topicId } },
    ]);
    expect(resourcesOf(s.json, 'AWS::SNS::Subscription')).toHaveLength(4);
    // the dashboard and the alarms are named after the stack
    const [, dashboard] = resourcesOf(s.json, 'AWS::CloudWatch::Dashboard')[0];
    expect(dashboard.Properties!.DashboardName).toBe('PhoneCtx');
    for (const [, alarm] of resourcesOf(s.json, 'AWS::CloudWatch::Alarm')) expect(alarm.Properties!.AlarmName).toMatch(/^PhoneCtx-/);
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
      ...ROUTES.map((r) => ['POST', `/${r.path.replace(/\//g, '~1')}`, ...(r.caller === 'browser' ? [3, 6] : [40, 80])]),
    ]);
    expect(limits).toContainEqual(['POST', '/~1softphone~1voicemails', 3, 6]);
    expect(limits).toContainEqual(['POST', '/~1twilio~1recording_status', 40, 80]);
    expect(s.json.Outputs.IncomingCallWebhookUrl.Value).toBe('https://voice.example.com/prod/twilio/retrieve_twiml/call_incoming');
    expect(s.json.Outputs.OutgoingCallWebhookUrl.Value).toBe('https://voice.example.com/prod/twilio/retrieve_twiml/call_outgoing');
    const [, rhp] = resourcesOf(s.json, 'AWS::CloudFront::ResponseHeadersPolicy')[0];
    expect(flatten(rhp.Properties!.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy)).toContain(
      'https://voice.example.com https://*.twilio.com',
    );
  });
});

describe('a bad voicemail or call-log value stops synth', () => {
  it.each([
    [{ voicemailRetentionDays: '0' }, /voicemailRetentionDays must be a whole number between 1 and 3650/],
    [{ callLogRetentionDays: '3651' }, /callLogRetentionDays must be a whole number between 1 and 3650/],
    [{ maxCallsPerDevice: '11' }, /maxCallsPerDevice must be a whole number between 1 and 10/],
    [{ maxCallsPerLine: '0' }, /maxCallsPerLine must be a whole number between 1 and 100/],
    [{ voicemailNotifyEmails: 'team@example.com,nobody' }, /voicemailNotifyEmails must be e-mail addresses.*"nobody"/],
    [{ alarmEmails: 'ops@example.com,nobody' }, /alarmEmails must be e-mail addresses.*"nobody"/],
  ] as const)('synth with %j throws, naming the key', (ctx, message) => {
    expect(() => synthesize(ctx)).toThrow(message);
  });

  it('the construct checks its own props with the same rules', () => {
    const { App, Stack } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    const { VoicemailStorage } = require('../../lib/constructs/voicemail-storage') as typeof import('../../lib/constructs/voicemail-storage');
    const stack = new Stack(new App(), 'Props');
    expect(() => new VoicemailStorage(stack, 'A', { retentionDays: 3651 })).toThrow(/voicemailRetentionDays/);
    expect(() => new VoicemailStorage(stack, 'B', { notifyEmails: ['a@example.com', 'b@'] })).toThrow(/voicemailNotifyEmails/);
    expect(new VoicemailStorage(stack, 'C', { retentionDays: 365 }).retentionDays).toBe(365);
  });
  it.each([
    [{ callLogRetentionDays: 0 }, /callLogRetentionDays must be a whole number between 1 and 3650/],
    [{ maxCallsPerDevice: 11 }, /maxCallsPerDevice must be a whole number between 1 and 10/],
    [{ maxCallsPerLine: 101 }, /maxCallsPerLine must be a whole number between 1 and 100/],
  ] as const)('the stack (its functions) checks functionSettings %j with the same rules, whoever builds it', (settings, message) => {
    const { App } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    const { TwilioSoftphoneStack } = require('../../lib/softphone-stack') as typeof import('../../lib/softphone-stack');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(() => new TwilioSoftphoneStack(app, 'Props', { functionSettings: settings })).toThrow(message);
  });
});
